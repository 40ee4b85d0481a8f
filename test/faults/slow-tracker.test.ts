import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { signJwt } from "../../src/providers/jira/jwt.js";
import { fixture, run, spawnServe } from "../helpers.js";
import { JIRA_ID, JIRA_SECRET, VSTS_ID, VSTS_SECRET, jiraWorld } from "../world.js";

const w = jiraWorld();
let serve: ReturnType<typeof spawnServe> | undefined;
afterEach(async () => {
  await serve?.stop();
  serve = undefined;
});

/** The Jira fixture with Jira's email visibility on: the assignee carries no emailAddress. */
const hiddenAssignee = () => {
  const p = JSON.parse(readFileSync(fixture("jira-issue-updated-assignee.json"), "utf8"));
  p.issue.fields.assignee = { name: "jdoe", key: "JIRAUSER10400", displayName: "Jane Doe" };
  return JSON.stringify(p);
};

const vstsPayload = (n: number) => {
  const p = JSON.parse(readFileSync(fixture("vsts-workitem-updated.json"), "utf8"));
  p.resourceContainers.collection.id = VSTS_ID;
  p.notificationId = n;
  return JSON.stringify(p);
};

const post = async (url: string, headers: Record<string, string>, body: string) => {
  const started = performance.now();
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: res.status, body: (await res.json()) as { outcome: string; reason: string; delivery: number }, ms: performance.now() - started };
};

describe("a slow tracker while serve runs", () => {
  it("keeps answering other deliveries within a second while Jira hangs, keeps the hidden-email change pending, and applies it once Jira answers, with no command run", async () => {
    await w.storeCredentials();
    // The fake signs and checks OAuth timestamps against this clock; serve runs on the real one.
    w.jira.state.now = Date.now;
    const isLookup = (q: { url: URL }) => q.url.pathname === "/rest/api/2/user";
    // Jira's REST hangs: every user lookup waits far longer than serve's budget.
    w.jira.failNext({ delayMs: 5_000 }, { times: 1_000, match: isLookup });
    serve = spawnServe(["--db", w.db, "--lookup-timeout", "300", "--lookup-cooldown", "400"], w.env);
    const url = await serve.url;

    const jira = await post(`${url}/hooks/jira/${signJwt({ id: JIRA_ID }, JIRA_SECRET)}`, {}, hiddenAssignee());
    expect(jira.status).toBe(202);
    expect(jira.body).toMatchObject({ outcome: "pending", reason: expect.stringMatching(/^waiting for the Jira user lookup: /) });
    expect(jira.ms).toBeLessThan(1_000);

    const answered = [];
    for (let n = 0; n < 20; n++) answered.push(await post(`${url}/hooks/vsts`, { "shared-secret": VSTS_SECRET }, vstsPayload(n)));
    expect(answered.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(Math.max(...answered.map((a) => a.ms))).toBeLessThan(1_000);

    const pending = JSON.parse((await run(["deliveries", "--pending", "--json", "--db", w.db])).stdout) as { id: number; outcome: string; reason: string }[];
    expect(pending).toMatchObject([{ id: jira.body.delivery, outcome: "pending", reason: expect.stringContaining("Jira user lookup") }]);
    const before = JSON.parse((await run(["issue", "list", "--json", "--db", w.db])).stdout) as { id: string; assignee: string | null }[];
    expect(before.find((i) => i.id === "BACKEND-1")!.assignee).toBeNull();

    // Jira answers again: serve finds out by itself after its cooldown.
    w.jira.reset();
    await serve.waitFor(new RegExp(`PENDING .* applied .*delivery ${jira.body.delivery}`));
    const after = JSON.parse((await run(["issue", "list", "--json", "--db", w.db])).stdout) as { id: string; assignee: string | null }[];
    expect(after.find((i) => i.id === "BACKEND-1")!.assignee).toBe("jane.doe@example.com");
    expect(JSON.parse((await run(["deliveries", "--pending", "--json", "--db", w.db])).stdout)).toEqual([]);
    const [row] = JSON.parse((await run(["deliveries", "--json", "--db", w.db])).stdout) as { id: number; verdict: number; outcome: string }[];
    expect(row).toMatchObject({ id: jira.body.delivery, verdict: 202, outcome: "applied" });
  }, 60_000);
});
