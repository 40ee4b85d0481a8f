import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { signJwt } from "../../src/providers/jira/jwt.js";
import { fixture, ndjson } from "../helpers.js";
import { receiver } from "../receiver/harness.js";
import { JIRA_ID, JIRA_SECRET, VSTS_ID, world } from "../world.js";

const VSTS_UPDATED = readFileSync(fixture("vsts-workitem-updated.json"));
const JIRA_ASSIGNED = readFileSync(fixture("jira-issue-updated-assignee.json"));
const JIRA_UNASSIGNED = readFileSync(fixture("jira-issue-updated-unassigned.json"));

/** A refused request keeps only its first 4 KiB: this one fits, so it can still be replayed with --unverified. */
const JIRA_SMALL = (() => {
  const p = JSON.parse(JIRA_ASSIGNED.toString());
  const { assignee, project } = p.issue.fields;
  return JSON.stringify({ ...p, user: undefined, issue: { id: p.issue.id, key: p.issue.key, fields: { assignee, project } } });
})();

/** A store with four deliveries: applied, 401, ignored (git.push), 400 (bad token); their ids as strings. */
async function recorded() {
  const w = await world();
  const r = await receiver(w.db);
  const answers = [
    await r.postVsts(VSTS_UPDATED),
    await r.postVsts(VSTS_UPDATED, { "shared-secret": "wrong" }),
    await r.postVsts(readFileSync(fixture("vsts-git-push.json"))),
    await r.postJira("not-a-token", JIRA_SMALL),
  ];
  const ids = answers.map((a) => String(a.body.delivery)) as [string, string, string, string];
  return { w, r, ids, numbers: ids.map(Number) };
}

describe("hooksync deliveries", () => {
  it("says when there are none", async () => {
    const w = await world();
    expect((await w.run(["deliveries"])).stdout).toBe("no deliveries yet (they are recorded by 'hooksync serve')\n");
    expect(JSON.parse((await w.run(["deliveries", "--json"])).stdout)).toEqual([]);
  });

  it("lists the delivery log newest last, as a table or as JSON", async () => {
    const { w, ids, numbers } = await recorded();
    const table = (await w.run(["deliveries"])).stdout.split("\n");
    expect(table[0]).toMatch(/^ID +RECEIVED +PROVIDER +INTEGRATION +VERDICT +OUTCOME +REASON \/ CHANGES$/);
    expect(table[1]).toMatch(new RegExp(`^${ids[0]} .* vsts +${VSTS_ID} +200 +applied +BACKEND-1 assignee -> fabrikamfiber3@hotmail.com$`));
    expect(table[2]).toMatch(new RegExp(`^${ids[1]} .* vsts +- +401 +rejected +wrong shared-secret header$`));
    const rows = JSON.parse((await w.run(["deliveries", "--json"])).stdout);
    expect(rows.map((d: any) => d.id)).toEqual(numbers);
    expect(Object.keys(rows[0])).toEqual(["id", "receivedAt", "source", "route", "provider", "integration", "event", "verdict", "outcome", "reason", "changes"]);
    expect(rows[0]).toMatchObject({ source: "serve", route: "/hooks/vsts", provider: "vsts", integration: VSTS_ID, event: "workitem.updated", verdict: 200 });
    expect(rows[2]).toMatchObject({ event: "git.push", outcome: "ignored", reason: "event type git.push is not synced", changes: [] });
    expect(rows[3]).toMatchObject({ route: "/hooks/jira/<redacted>", provider: "jira", integration: null, verdict: 400, outcome: "rejected" });
  });

  it("keeps only refused and rejected ones with --failed, and the newest n with --limit", async () => {
    const { w, numbers: n } = await recorded();
    expect(JSON.parse((await w.run(["deliveries", "--failed", "--json"])).stdout).map((d: any) => d.id)).toEqual([n[1], n[3]]);
    expect(JSON.parse((await w.run(["deliveries", "--limit", "2", "--json"])).stdout).map((d: any) => d.id)).toEqual([n[2], n[3]]);
    expect(JSON.parse((await w.run(["deliveries", "--failed", "--limit", "1", "--json"])).stdout).map((d: any) => d.id)).toEqual([n[3]]);
    expect((await w.run(["deliveries", "--limit", "0"])).code).toBe(2);
  });

  it("shows a reason a client wrote on one line, without its control characters", async () => {
    const w = await world();
    const r = await receiver(w.db);
    const payload = JSON.parse(VSTS_UPDATED.toString());
    payload.eventType = "evil\u001b[2J\nid";
    await r.postVsts(JSON.stringify(payload));
    const out = (await w.run(["deliveries"])).stdout;
    expect(out).not.toContain("\u001b");
    expect(out).toContain("event type evil\\u001b[2J\\nid is not synced");
  });
});

describe("hooksync replay --delivery", () => {
  it("re-runs a recorded delivery through the engine, with no redelivery check (rule 6.3)", async () => {
    const { w, ids } = await recorded();
    // Already applied: state-level idempotency (rule 1.2) makes it change nothing.
    const same = await w.run(["replay", "--delivery", ids[0], "--json"]);
    expect(same.code).toBe(0);
    expect(ndjson(same.stdout)[0]).toMatchObject({ source: `delivery ${ids[0]}`, provider: "vsts", integration: VSTS_ID, outcome: "ignored" });
    await w.run(["import", "-"], { stdin: JSON.stringify({ issues: [{ id: "BACKEND-1", project: "backend", title: "TypeError in checkout", assignee: "jane.doe@example.com" }] }) });
    const again = await w.run(["replay", "--delivery", ids[0]]);
    expect(again.stdout).toBe(`applied  delivery ${ids[0]} vsts workitem.updated: BACKEND-1 assignee jane.doe@example.com -> fabrikamfiber3@hotmail.com (skipped: inbound assignee sync is off for globex; inbound status sync is off for globex)\n`);
    expect((await w.activity()).at(-1)).toMatchObject({ source: "replay", delivery: null });
    const dry = await w.run(["replay", "--delivery", ids[2], "--dry-run"]);
    expect(dry.stdout).toBe(`ignored  delivery ${ids[2]} vsts git.push: event type git.push is not synced\n`);
  });

  it("refuses a delivery that never passed authentication unless --unverified", async () => {
    const { w, ids } = await recorded();
    const r = await w.run(["replay", "--delivery", ids[1]]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `hooksync: delivery ${ids[1]} never passed authentication (401: wrong shared-secret header) (replaying it would apply data no tracker vouched for; add --unverified if you trust it)\n`,
    );
    const trusted = await w.run(["replay", "--delivery", ids[3], "--unverified", "--json"]);
    expect(ndjson(trusted.stdout)[0]).toMatchObject({ provider: "jira", integration: JIRA_ID, outcome: "applied" });
  });

  it("says a refused delivery kept only part of its body, and does not replay the part", async () => {
    const { w, ids } = await recorded();
    const r = await w.run(["replay", "--delivery", ids[1], "--unverified"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `hooksync: delivery ${ids[1]} kept only the first 4096 of its ${VSTS_UPDATED.length} bytes (401: wrong shared-secret header) (a refused request is not kept whole; have the tracker send it again)\n`,
    );
  });

  it("re-sends the exact bytes to another receiver with fresh auth", async () => {
    const { w, r, ids } = await recorded();
    const jwt = signJwt({ id: JIRA_ID }, JIRA_SECRET);
    const unassigned = String((await r.postJira(jwt, JIRA_UNASSIGNED, { "X-Atlassian-Webhook-Identifier": "wh-9" })).body.delivery);
    const other = await world();
    const target = await receiver(other.db);
    const vsts = await w.run(["replay", "--delivery", ids[0], "--send", target.url]);
    expect(vsts.stdout).toMatch(/^200 http:\/\/127.0.0.1:\d+\/hooks\/vsts applied \(delivery \d+\)\n$/);
    const jira = await w.run(["replay", "--delivery", unassigned, "--send", target.url, "--json"]);
    expect(JSON.parse(jira.stdout)).toMatchObject({ status: 200, url: `${target.url}/hooks/jira/<redacted>`, answer: { outcome: "ignored" } });
    const sent = await target.rawDeliveries();
    expect(sent[0]!.body!.equals(VSTS_UPDATED)).toBe(true);
    expect(sent[1]!.body!.equals(JIRA_UNASSIGNED)).toBe(true);
    expect(sent[1]!.identity).toBe("wh-9");
    // Sent again, it is the redelivery it is.
    const twice = await w.run(["replay", "--delivery", ids[0], "--send", target.url, "--json"]);
    expect(JSON.parse(twice.stdout).answer).toMatchObject({ outcome: "ignored", reason: `redelivery of delivery ${(await target.store.deliveries.list())[0]!.id}` });
    const unsigned = await w.run(["replay", "--delivery", ids[3], "--send", target.url]);
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toContain(`delivery ${ids[3]} names no integration of this store to sign it for`);
  });

  it.each([
    [["replay", "a.json", "--delivery", "1"], "hooksync: replay takes inputs or --delivery, not both (run them one after the other)\n"],
    [["replay"], "hooksync: missing required argument 'input' (see 'hooksync --help')\n"],
    [["replay", "a.json", "--send", "http://127.0.0.1:1"], "hooksync: --send goes with --delivery <id> (see 'hooksync deliveries')\n"],
    [["replay", "--delivery", "1", "--provider", "jira"], "hooksync: --provider cannot be used with --delivery (the recorded delivery names both)\n"],
    [["replay", "--delivery", "99"], "hooksync: no delivery 99 (see 'hooksync deliveries')\n"],
    [["replay", "--delivery", "x"], /--delivery <id>' argument 'x' is invalid/],
    [["replay", "--delivery", "1", "--send", "http://127.0.0.1:1", "--dry-run"], /cannot be used with/],
  ])("refuses %j with exit 2", async (argv, message) => {
    const w = await world();
    const r = await w.run(argv);
    expect(r.code).toBe(2);
    if (typeof message === "string") expect(r.stderr).toBe(message);
    else expect(r.stderr).toMatch(message);
  });
});
