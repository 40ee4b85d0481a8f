import { describe, expect, it } from "vitest";
import type { DeliveryEnd, DeliveryStart, Recorded } from "../../src/store/deliveries-repo.js";
import type { Store } from "../../src/store/store.js";
import { backends, type BackendName, storeTargets } from "../pg.js";

const stores = storeTargets("store_deliveries_repo");

async function store(backend: BackendName) {
  const s = await stores.open(backend);
  await s.sql.run(`INSERT INTO integrations (provider, external_id, name, webhook_secret) VALUES ('vsts', 'coll', 'c', 's'), ('jira', 'j', 'j', 's')`);
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
/** The id of a row written; a held claim fails the test. */
const idOf = (r: Recorded): number => {
  if ("held" in r) throw new Error(`the identity is held by delivery ${r.held}`);
  return r.id;
};
/** One delivery recorded, in a transaction of its own: ids are made inside one only (its id lease prepared as it began). */
const record = async (s: Store, d: DeliveryStart & DeliveryEnd) => idOf(await s.inTransaction((tx) => tx.deliveries.record(d)));
const COLL = 1;
const JIRA = 2;
const done = { event: "workitem.updated", verdict: 200, reason: null, changes: [{ issue: "A-1", field: "assignee" as const, from: null, to: "a@b.c" }] };

describe.each(backends)("DeliveriesRepo on %s", (backend) => {
  it("begins a row in a transaction and finishes it with the outcome", async () => {
    const s = await store(backend);
    const id = await s.inTransaction(async (tx) => {
      const id = idOf(await tx.deliveries.begin(start(), COLL));
      await tx.deliveries.finish(id, { ...done, integrationId: COLL, outcome: "applied" }, Buffer.from("{}"));
      return id;
    });
    expect(await s.deliveries.get(id)).toEqual({
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

  it("6.2 an applied delivery holds its identity: another claiming it writes nothing and is told which holds it; another integration's or provider's is free", async () => {
    const s = await store(backend);
    const applied = await s.inTransaction(async (tx) => {
      const id = idOf(await tx.deliveries.begin(start(), COLL));
      await tx.deliveries.finish(id, { ...done, integrationId: COLL, outcome: "applied" }, null);
      return id;
    });
    expect(await s.inTransaction((tx) => tx.deliveries.begin(start(), COLL))).toEqual({ held: applied });
    expect(await s.inTransaction((tx) => tx.deliveries.record({ ...start(), ...done, integrationId: COLL, outcome: "pending" }))).toEqual({ held: applied });
    // Rows that do not claim it are written beside it: a redelivery is recorded too.
    await record(s, { ...start(), ...done, integrationId: COLL, outcome: "ignored" });
    await s.inTransaction(async (tx) => idOf(await tx.deliveries.begin(start({ identity: "sub:2" }), COLL)));
    await s.inTransaction(async (tx) => idOf(await tx.deliveries.begin(start(), JIRA)));
    await s.inTransaction(async (tx) => idOf(await tx.deliveries.begin(start({ provider: "jira" }), COLL)));
    expect((await s.deliveries.list()).length).toBe(5);
  });

  it("6.2 a pending delivery holds its identity; one that ends ignored or rejected lets it go", async () => {
    const s = await store(backend);
    const pending = await record(s, { ...start(), ...done, integrationId: COLL, outcome: "pending" });
    expect(await s.inTransaction((tx) => tx.deliveries.begin(start(), COLL))).toEqual({ held: pending });
    await s.inTransaction((tx) => tx.deliveries.finish(pending, { ...done, integrationId: COLL, outcome: "ignored" }, null));
    const next = await s.inTransaction(async (tx) => {
      const id = idOf(await tx.deliveries.begin(start(), COLL));
      await tx.deliveries.finish(id, { ...done, integrationId: COLL, outcome: "rejected" }, null);
      return id;
    });
    expect(next).toBeGreaterThan(pending);
    await s.inTransaction(async (tx) => idOf(await tx.deliveries.begin(start(), COLL)));
  });

  it("6.2 two transactions claiming one identity at once: one row holds it, the other is told which (unique index, not a read)", async () => {
    const s = await store(backend);
    // On PostgreSQL the second insert waits for the first transaction, then finds the claim held;
    // on SQLite the transactions take turns.
    const claim = () =>
      s.inTransaction(async (tx) => {
        const r = await tx.deliveries.begin(start(), COLL);
        if ("id" in r) await tx.deliveries.finish(r.id, { ...done, integrationId: COLL, outcome: "applied" }, null);
        return r;
      });
    const results = await Promise.all([claim(), claim()]);
    const won = results.filter((r) => "id" in r);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => "held" in r)).toEqual([{ held: (won[0] as { id: number }).id }]);
  });

  it("records a refused delivery with no integration and no body", async () => {
    const s = await store(backend);
    const id = await record(s, { ...start({ body: null, identity: null }), ...done, integrationId: null, verdict: 400, outcome: "rejected", reason: "no vsts integration nope" });
    expect(await s.deliveries.get(id)).toMatchObject({ integration: null, body: null, verdict: 400 });
  });

  it("lists newest last, failed ones alone, and the newest n", async () => {
    const s = await store(backend);
    const verdicts: [number, "applied" | "ignored" | "rejected"][] = [[200, "applied"], [401, "rejected"], [200, "ignored"], [413, "rejected"]];
    const ids: number[] = [];
    for (const [verdict, outcome] of verdicts) ids.push(await record(s, { ...start(), ...done, integrationId: COLL, verdict, outcome }));
    expect((await s.deliveries.list()).map((d) => d.id)).toEqual(ids);
    expect((await s.deliveries.list({ failed: true })).map((d) => d.id)).toEqual([ids[1], ids[3]]);
    expect((await s.deliveries.list({ limit: 3 })).map((d) => d.id)).toEqual(ids.slice(1));
    expect(await s.deliveries.get(99)).toBeUndefined();
  });

  it("10.4 keeps pending deliveries in order per external issue until each is applied", async () => {
    const s = await store(backend);
    const pend = (key: string) => record(s, { ...start({ externalKey: key, identity: null }), ...done, integrationId: COLL, verdict: 202, outcome: "pending", reason: "waiting" });
    const a = await pend("5");
    const b = await pend("6");
    const c = await pend("5");
    expect(await s.deliveries.pendingFor(COLL, "5")).toBe(a);
    expect(await s.deliveries.pendingFor(JIRA, "5")).toBeUndefined();
    expect((await s.deliveries.pending()).map((d) => [d.id, d.externalKey, d.integrationId])).toEqual([[a, "5", COLL], [b, "6", COLL], [c, "5", COLL]]);
    expect((await s.deliveries.pending(a, 1)).map((d) => d.id)).toEqual([b]);
    await s.deliveries.stillWaiting(a, "still waiting");
    expect((await s.deliveries.pending())[0]).toMatchObject({ attempts: 1, reason: "still waiting" });
    await s.deliveries.finish(a, { ...done, integrationId: COLL, verdict: 202, outcome: "applied" }, null);
    expect(await s.deliveries.isPending(a)).toBe(false);
    // The body stays: finishing a pending delivery later keeps the bytes it was received with.
    expect((await s.deliveries.get(a))!.body).toEqual(Buffer.from("{}"));
    expect(await s.deliveries.pendingFor(COLL, "5")).toBe(c);
    expect((await s.deliveries.list({ pending: true })).map((d) => d.id)).toEqual([b, c]);
  });
});
