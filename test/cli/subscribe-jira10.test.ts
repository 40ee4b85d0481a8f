import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { signJwt } from "../../src/providers/jira/jwt.js";
import { fixture, run } from "../helpers.js";
import { receiver } from "../receiver/harness.js";
import { JIRA_ID, JIRA_SECRET, NOW, jiraWorld } from "../world.js";

const URL_BASE = "https://hooksync.example.com";
const BODY = readFileSync(fixture("jira-issue-updated-assignee.json"), "utf8");

const w = jiraWorld();
const subscribe = (...extra: string[]) => run(["subscribe", "jira", "--url", URL_BASE, "--db", w.db, "--json", ...extra], { env: w.env });
const onJira10 = async (...extra: string[]) => {
  w.jira.state.version = "10.3.1";
  await w.storeCredentials("admin");
  const r = await subscribe(...extra);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r;
};

describe("subscribe jira on Jira Data Center 10", () => {
  it("registers the 10.x body: JQL in configuration.FILTERS, the integration's secret, a URL naming the integration", async () => {
    const r = await onJira10("--jql", "project = PRJA");
    const post = w.jira.requests.find((q) => q.method === "POST")!;
    expect(post.url.pathname).toBe("/rest/jira-webhook/1.0/webhooks");
    const body = post.json<Record<string, unknown>>();
    expect(body).toEqual({
      name: `hooksync ${JIRA_ID}`,
      url: `${URL_BASE}/hooks/jira/${JIRA_ID}`,
      events: ["jira:issue_created", "jira:issue_updated"],
      active: true,
      configuration: { FILTERS: "project = PRJA", EXCLUDE_BODY: "false", secret: JIRA_SECRET },
    });
    expect([...w.jira.state.webhooks.values()][0]).toMatchObject({ filters: { "issue-related-events-section": "project = PRJA" }, secret: JIRA_SECRET });
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ id: "1", action: "created", verifiedBy: "signature", url: `${URL_BASE}/hooks/jira/${JIRA_ID}` })]);
    expect(r.stdout).not.toContain(JIRA_SECRET);
  });

  it("reads the 10.x answer back: a second run keeps the webhook, a new --jql updates it", async () => {
    await onJira10("--jql", "project = PRJA");
    expect(JSON.parse((await subscribe("--jql", "project = PRJA")).stdout)[0]).toMatchObject({ action: "kept", filters: { "issue-related-events-section": "project = PRJA" }, enabled: true });
    expect(JSON.parse((await subscribe("--jql", "project = PRJB")).stdout)[0]).toMatchObject({ action: "updated" });
    expect(w.jira.state.webhooks.get("1")!.filters["issue-related-events-section"]).toBe("project = PRJB");
  });

  it("moves a Jira 9 webhook to Jira 10 after an upgrade: same webhook, new URL and secret", async () => {
    await w.storeCredentials("admin");
    expect((await subscribe()).code).toBe(0);
    w.jira.state.version = "10.3.1";
    expect(JSON.parse((await subscribe()).stdout)[0]).toMatchObject({ id: "1", action: "updated", verifiedBy: "signature" });
    expect(w.jira.state.webhooks.size).toBe(1);
    expect(w.jira.state.webhooks.get("1")).toMatchObject({ url: `${URL_BASE}/hooks/jira/${JIRA_ID}`, secret: JIRA_SECRET });
  });
});

describe("serve verifies a Jira 10 integration's deliveries by X-Hub-Signature", () => {
  it("accepts what Jira 10 signs; refuses a wrong or missing signature 401, and the JWT URL alone", async () => {
    await onJira10();
    const r = await receiver(w.db);
    expect(await w.jira.fire("1", BODY, r.url)).toMatchObject({ status: 200 });
    const tampered = await r.postJira(JIRA_ID, BODY, { "x-hub-signature": `sha256=${"0".repeat(64)}` });
    expect(tampered).toMatchObject({ status: 401, body: { reason: "wrong X-Hub-Signature header" } });
    expect(await r.postJira(JIRA_ID, BODY)).toMatchObject({ status: 401, body: { reason: "missing X-Hub-Signature header" } });
    expect(await r.postJira(signJwt({ id: JIRA_ID }, JIRA_SECRET), BODY)).toMatchObject({ status: 401, body: { reason: "missing X-Hub-Signature header" } });
    // An unknown integration reads exactly as a wrong signature.
    expect(await r.postJira("jira-nope", BODY, { "x-hub-signature": `sha256=${"0".repeat(64)}` })).toMatchObject({ status: 401, body: { reason: "wrong X-Hub-Signature header" } });
  });

  it("takes both forms during --rotation-window, so a live integration loses nothing while Jira moves", async () => {
    await onJira10("--rotation-window", "24h");
    let clock = NOW + 3_600_000;
    const r = await receiver(w.db, {}, { now: () => new Date(clock) });
    expect(await w.jira.fire("1", BODY, r.url)).toMatchObject({ status: 200 });
    expect((await r.postJira(signJwt({ id: JIRA_ID }, JIRA_SECRET), BODY)).status).toBe(200);
    // Once the window has passed, only the signature.
    clock = NOW + 25 * 3_600_000;
    expect((await r.postJira(signJwt({ id: JIRA_ID }, JIRA_SECRET), BODY)).status).toBe(401);
  });

  it("simulate jira --send signs the body the same way", async () => {
    await onJira10();
    const r = await receiver(w.db);
    const sent = await run(["simulate", "jira", "issue_updated", "--issue", "PRJA-37", "--unassign", "--send", r.url, "--db", w.db, "--json"], { env: w.env });
    expect(sent.stderr).toBe("");
    expect(sent.code).toBe(0);
    expect((await r.store.deliveries.list())[0]).toMatchObject({ provider: "jira", integration: JIRA_ID, verdict: 200 });
  });
});
