import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Lookup } from "../../src/receiver/apply.js";
import { signJwt } from "../../src/providers/jira/jwt.js";
import { fixture } from "../helpers.js";
import { backends, storeTargets } from "../pg.js";
import { JIRA_ID, JIRA_SECRET, world } from "../world.js";
import { receiver } from "./harness.js";

const stores = storeTargets("receiver_pending");

const raw = (name: string) => readFileSync(fixture(name));
const VSTS_UPDATED = raw("vsts-workitem-updated.json");
const JIRA_UNASSIGNED = raw("jira-issue-updated-unassigned.json");
const JWT = signJwt({ id: JIRA_ID }, JIRA_SECRET);

/** Jira's email visibility on: the assignee of PRJA-37 carries no emailAddress. */
const hidden = () => {
  const p = JSON.parse(raw("jira-issue-updated-assignee.json").toString());
  p.issue.fields.assignee.emailAddress = "";
  return JSON.stringify(p);
};

/** What Jira's user REST would have said: the email filled in. */
const found = (d: Parameters<Lookup>[0]) => {
  const body = structuredClone((d.body as { value: any }).value);
  body.issue.fields.assignee.emailAddress = "bob.smith@example.com";
  return { ok: true as const, delivery: { ...d, body: { ok: true as const, value: body } } };
};

describe.each(backends)("serve: deliveries kept pending (rule 10.4) on %s", (backend) => {
  const freshWorld = async () => world(await stores(backend));

  it("10.4 keeps a delivery whose lookup failed pending (202), holds later ones of its issue behind it, and applies them in order once the lookup answers", async () => {
    const w = await freshWorld();
    let jiraAnswers = false;
    const r = await receiver(w.db, { pendingIntervalMs: 20 }, {
      lookup: async (d) => (jiraAnswers ? found(d) : { ok: false, reason: "Jira did not answer within 300 ms" }),
    });
    const assign = await r.postJira(JWT, hidden());
    expect(assign).toMatchObject({ status: 202, body: { outcome: "pending", reason: "waiting for the Jira user lookup: Jira did not answer within 300 ms" } });
    const unassign = await r.postJira(JWT, JIRA_UNASSIGNED);
    expect(unassign).toMatchObject({ status: 202, body: { outcome: "pending", reason: `waiting for delivery ${assign.body.delivery} of the same issue` } });
    // Another issue is not held back.
    expect((await r.postVsts(VSTS_UPDATED)).body.outcome).toBe("applied");
    expect((await w.issues())["WEB-1"]!.assignee).toBeNull();
    expect((await r.store.deliveries.list({ pending: true })).map((d) => d.id)).toEqual([assign.body.delivery, unassign.body.delivery]);

    jiraAnswers = true;
    await expect.poll(() => r.logs.filter((l) => l.method === "PENDING").map((l) => [l.delivery, l.outcome])).toEqual([
      [assign.body.delivery, "applied"],
      [unassign.body.delivery, "applied"],
    ]);
    expect((await w.issues())["WEB-1"]!.assignee).toBeNull();
    const web = (await w.activity()).filter((a) => a.issue === "WEB-1");
    expect(web.map((a) => [a.kind, a.to, a.delivery])).toEqual([
      ["assigned", "bob.smith@example.com", assign.body.delivery],
      ["unassigned", null, unassign.body.delivery],
    ]);
    // Recorded on the same deliveries, with the 202 they were answered.
    expect(await r.store.deliveries.get(assign.body.delivery)).toMatchObject({ verdict: 202, outcome: "applied" });
    expect(await r.store.deliveries.list({ pending: true })).toEqual([]);
  });

  it("a lookup that hangs holds back only its own issue: a delivery for another issue is answered first", async () => {
    const w = await freshWorld();
    let release!: () => void;
    const jiraBack = new Promise<void>((resolve) => (release = resolve));
    let asked = false;
    const r = await receiver(w.db, {}, { lookup: async (d) => ((asked = true), await jiraBack, found(d)) });
    const jira = r.postJira(JWT, hidden());
    await expect.poll(() => asked).toBe(true);
    const vsts = await r.postVsts(VSTS_UPDATED);
    expect(vsts.body.outcome).toBe("applied");
    expect(r.logs.map((l) => l.path)).toEqual(["/hooks/vsts"]);
    release();
    expect((await jira).body.outcome).toBe("applied");
    expect((await w.issues())["WEB-1"]!.assignee).toBe("bob.smith@example.com");
  });

  it("applies a pending delivery once, when two receivers on one store both try it", async () => {
    const w = await freshWorld();
    let jiraAnswers = false;
    // Both receivers get as far as the answered lookup before either goes on: the race, every time.
    const asking = new Set<string>();
    let release!: () => void;
    const bothAsked = new Promise<void>((resolve) => (release = resolve));
    const lookup =
      (name: string): Lookup =>
      async (d) => {
        if (!jiraAnswers) return { ok: false, reason: "down" };
        asking.add(name);
        await bothAsked;
        return found(d);
      };
    const a = await receiver(w.db, { pendingIntervalMs: 10 }, { lookup: lookup("a") });
    const b = await receiver(w.db, { pendingIntervalMs: 10 }, { lookup: lookup("b") });
    const pending = await a.postJira(JWT, hidden());
    expect(pending.status).toBe(202);
    jiraAnswers = true;
    await expect.poll(() => asking.size).toBe(2);
    release();
    await expect.poll(() => a.store.deliveries.list({ pending: true })).toEqual([]);
    // Stopped, each has finished what it was doing: nothing more can come.
    await Promise.all([a.close(), b.close()]);
    expect([...a.logs, ...b.logs].filter((l) => l.method === "PENDING")).toHaveLength(1);
    expect((await w.activity()).filter((x) => x.delivery === pending.body.delivery)).toHaveLength(1);
  });
});
