import { describe, expect, it } from "vitest";
import type { DeliveryStart } from "../../src/store/deliveries-repo.js";
import { openStore } from "../../src/store/store.js";

function store() {
  const s = openStore(":memory:");
  s.db.exec(`INSERT INTO integrations (provider, external_id, name, webhook_secret) VALUES ('vsts', 'coll', 'c', 's'), ('jira', 'j', 'j', 's')`);
  return s;
}
const start = (over: Partial<DeliveryStart> = {}): DeliveryStart => ({
  receivedAt: "2026-01-02T03:04:05.000Z",
  source: "serve",
  route: "/hooks/vsts",
  provider: "vsts",
  identity: "sub:1",
  externalKey: "5",
  headers: { "content-type": "application/json" },
  body: Buffer.from("{}"),
  bodySize: 2,
  bodySha256: null,
  ...over,
});
const COLL = 1;
const JIRA = 2;
const done = { event: "workitem.updated", verdict: 200, reason: null, changes: [{ issue: "A-1", field: "assignee" as const, from: null, to: "a@b.c" }] };

describe("DeliveriesRepo", () => {
  it("begins a row in a transaction and finishes it with the outcome", () => {
    const s = store();
    const id = s.inTransaction(() => {
      const id = s.deliveries.begin(start());
      s.deliveries.finish(id, { ...done, integrationId: COLL, outcome: "applied" }, Buffer.from("{}"));
      return id;
    });
    expect(s.deliveries.get(id)).toEqual({
      id,
      receivedAt: "2026-01-02T03:04:05.000Z",
      source: "serve",
      route: "/hooks/vsts",
      provider: "vsts",
      integration: "coll",
      event: "workitem.updated",
      verdict: 200,
      outcome: "applied",
      reason: null,
      changes: done.changes,
      headers: { "content-type": "application/json" },
      body: Buffer.from("{}"),
      bodySize: 2,
    });
  });

  it("finds an applied delivery by provider, integration and identity only", () => {
    const s = store();
    const ignored = s.deliveries.record({ ...start(), ...done, integrationId: COLL, outcome: "ignored" });
    expect(s.deliveries.appliedBefore("vsts", COLL, "sub:1")).toBeUndefined();
    const applied = s.deliveries.record({ ...start(), ...done, integrationId: COLL, outcome: "applied" });
    s.deliveries.record({ ...start(), ...done, integrationId: COLL, outcome: "applied" });
    expect(ignored).toBeLessThan(applied);
    expect(s.deliveries.appliedBefore("vsts", COLL, "sub:1")).toBe(applied);
    expect(s.deliveries.appliedBefore("vsts", COLL, "sub:2")).toBeUndefined();
    expect(s.deliveries.appliedBefore("jira", JIRA, "sub:1")).toBeUndefined();
  });

  it("records a refused delivery with no integration and no body", () => {
    const s = store();
    const id = s.deliveries.record({ ...start({ body: null, identity: null }), ...done, integrationId: null, verdict: 400, outcome: "rejected", reason: "no vsts integration nope" });
    expect(s.deliveries.get(id)).toMatchObject({ integration: null, body: null, verdict: 400 });
  });

  it("lists newest last, failed ones alone, and the newest n", () => {
    const s = store();
    const verdicts: [number, "applied" | "ignored" | "rejected"][] = [[200, "applied"], [401, "rejected"], [200, "ignored"], [413, "rejected"]];
    const ids = verdicts.map(([verdict, outcome]) => s.deliveries.record({ ...start(), ...done, integrationId: COLL, verdict, outcome }));
    expect(s.deliveries.list().map((d) => d.id)).toEqual(ids);
    expect(s.deliveries.list({ failed: true }).map((d) => d.id)).toEqual([ids[1], ids[3]]);
    expect(s.deliveries.list({ limit: 3 }).map((d) => d.id)).toEqual(ids.slice(1));
    expect(s.deliveries.get(99)).toBeUndefined();
  });

  it("10.4 keeps pending deliveries in order per external issue until each is applied", () => {
    const s = store();
    const pend = (key: string) => s.deliveries.record({ ...start({ externalKey: key, identity: null }), ...done, integrationId: COLL, verdict: 202, outcome: "pending", reason: "waiting" });
    const a = pend("5");
    const b = pend("6");
    const c = pend("5");
    expect(s.deliveries.pendingFor(COLL, "5")).toBe(a);
    expect(s.deliveries.pendingFor(JIRA, "5")).toBeUndefined();
    expect(s.deliveries.pending().map((d) => [d.id, d.externalKey, d.integrationId])).toEqual([[a, "5", COLL], [b, "6", COLL], [c, "5", COLL]]);
    expect(s.deliveries.pending(a, 1).map((d) => d.id)).toEqual([b]);
    s.deliveries.stillWaiting(a, "still waiting");
    expect(s.deliveries.pending()[0]).toMatchObject({ attempts: 1, reason: "still waiting" });
    s.deliveries.finish(a, { ...done, integrationId: COLL, verdict: 202, outcome: "applied" }, null);
    expect(s.deliveries.isPending(a)).toBe(false);
    // The body stays: finishing a pending delivery later keeps the bytes it was received with.
    expect(s.deliveries.get(a)!.body).toEqual(Buffer.from("{}"));
    expect(s.deliveries.pendingFor(COLL, "5")).toBe(c);
    expect(s.deliveries.list({ pending: true }).map((d) => d.id)).toEqual([b, c]);
  });

  it("counts a pending delivery as received: its redelivery is not applied beside it", () => {
    const s = store();
    const pending = s.deliveries.record({ ...start(), ...done, integrationId: COLL, verdict: 202, outcome: "pending", reason: "waiting" });
    expect(s.deliveries.appliedBefore("vsts", COLL, "sub:1")).toBe(pending);
  });
});
