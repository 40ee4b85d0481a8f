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
  headers: { "content-type": "application/json" },
  body: Buffer.from("{}"),
  ...over,
});
const done = { event: "workitem.updated", verdict: 200, reason: null, changes: [{ issue: "A-1", field: "assignee" as const, from: null, to: "a@b.c" }] };

describe("DeliveriesRepo", () => {
  it("begins a row in a transaction and finishes it with the outcome", () => {
    const s = store();
    const id = s.inTransaction(() => {
      const id = s.deliveries.begin(start());
      s.deliveries.finish(id, { ...done, integration: "coll", outcome: "applied" }, Buffer.from("{}"));
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
    });
  });

  it("finds an applied delivery by provider, integration and identity only", () => {
    const s = store();
    const ignored = s.deliveries.record({ ...start(), ...done, integration: "coll", outcome: "ignored" });
    expect(s.deliveries.appliedBefore("vsts", "coll", "sub:1")).toBeUndefined();
    const applied = s.deliveries.record({ ...start(), ...done, integration: "coll", outcome: "applied" });
    s.deliveries.record({ ...start(), ...done, integration: "coll", outcome: "applied" });
    expect(ignored).toBeLessThan(applied);
    expect(s.deliveries.appliedBefore("vsts", "coll", "sub:1")).toBe(applied);
    expect(s.deliveries.appliedBefore("vsts", "coll", "sub:2")).toBeUndefined();
    expect(s.deliveries.appliedBefore("jira", "j", "sub:1")).toBeUndefined();
  });

  it("keeps an integration the store does not know as null", () => {
    const s = store();
    const id = s.deliveries.record({ ...start({ body: null, identity: null }), ...done, integration: "nope", verdict: 400, outcome: "rejected", reason: "no vsts integration nope" });
    expect(s.deliveries.get(id)).toMatchObject({ integration: null, body: null, verdict: 400 });
  });

  it("lists newest last, failed ones alone, and the newest n", () => {
    const s = store();
    const verdicts: [number, "applied" | "ignored" | "rejected"][] = [[200, "applied"], [401, "rejected"], [200, "ignored"], [413, "rejected"]];
    const ids = verdicts.map(([verdict, outcome]) => s.deliveries.record({ ...start(), ...done, integration: "coll", verdict, outcome }));
    expect(s.deliveries.list().map((d) => d.id)).toEqual(ids);
    expect(s.deliveries.list({ failed: true }).map((d) => d.id)).toEqual([ids[1], ids[3]]);
    expect(s.deliveries.list({ limit: 3 }).map((d) => d.id)).toEqual(ids.slice(1));
    expect(s.deliveries.get(99)).toBeUndefined();
  });
});
