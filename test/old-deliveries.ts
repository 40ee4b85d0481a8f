import { onTestFinished } from "vitest";
import { DeliveriesRepo, type DeliveryEnd } from "../src/store/deliveries-repo.js";
import { MAX_WORKER, SnowflakeIds } from "../src/store/ids.js";
import { openStore, type Store } from "../src/store/store.js";
import { VSTS_ID } from "./world.js";

export const DAY = 86_400_000;

export interface AddOptions {
  end?: Partial<DeliveryEnd>;
  /** An activity row (BACKEND-1 assigned) points at the delivery, as serve writes when it applies one. */
  activity?: boolean;
  body?: Buffer;
}

/**
 * Deliveries recorded as serve would have at any instant: ids come from a generator whose clock
 * is that instant, so they encode the time like the receiver's own.
 */
/** Ids as a writer holding this worker number would have made them at that instant. */
const idsAt = (worker: number, at: Date) => new SnowflakeIds({ workerAt: () => worker }, () => at.getTime());

const ADD_ACTIVITY = `INSERT INTO activity (id, issue_id, kind, to_value, source, delivery_id, at) VALUES (?, (SELECT id FROM issues WHERE key = 'BACKEND-1'), 'assigned', 'jane.doe@example.com', 'serve', ?, ?)`;
const IDS = `SELECT id FROM deliveries ORDER BY id`;
const ROW = `SELECT headers, body, pruned_at AS prunedAt, outcome, changes FROM deliveries WHERE id = ?`;
const DUMP = `SELECT * FROM deliveries ORDER BY id`;

export async function oldDeliveries(db: string) {
  const store = await openStore(db);
  onTestFinished(() => store.close());
  let region = 0;
  /** One delivery through repo, written in scope (the store, or the transaction repo writes in). */
  const record = async (scope: Store, repo: DeliveriesRepo, at: Date, o: AddOptions) => {
    const { outcome = "ignored", ...end } = o.end ?? {};
    const body = o.body ?? Buffer.from('{"eventType":"workitem.updated"}');
    const recorded = await repo.record({
      receivedAt: at.toISOString(),
      source: "serve",
      route: "/hooks/vsts",
      provider: "vsts",
      identity: null,
      externalKey: "5",
      headers: { "content-type": "application/json", "user-agent": "VSTS" },
      body,
      bodySize: body.length,
      bodySha256: null,
      integrationId: (await scope.integrations.byExternalId(VSTS_ID))!.id,
      event: "workitem.updated",
      verdict: 200,
      reason: null,
      changes: [],
      ...(outcome === "pending" ? { verdict: 202 } : {}),
      ...end,
      outcome,
    });
    // Its identity is null: it claims none, so it is always written.
    const id = (recorded as { id: number }).id;
    if (o.activity) await scope.sql.run(ADD_ACTIVITY, [id + 1, id, at.toISOString()]);
    return id;
  };
  return {
    store,
    /** One delivery received at `at`; its id. */
    add(at: Date, o: AddOptions = {}): Promise<number> {
      return record(store, new DeliveriesRepo(store.sql, idsAt(region++ % (MAX_WORKER + 1), at)), at, o);
    },
    /** n deliveries received at `at` (ids borrow the next milliseconds past 128), in one transaction. */
    async addMany(n: number, at: Date, o: AddOptions = {}): Promise<void> {
      const ids = idsAt(region++ % (MAX_WORKER + 1), at);
      await store.inTransaction(async (tx) => {
        const repo = new DeliveriesRepo(tx.sql, ids);
        for (let i = 0; i < n; i++) await record(tx, repo, at, o);
      });
    },
    ids: async () => (await store.sql.all<{ id: number }>(IDS)).map((r) => r.id),
    row: (id: number) =>
      store.sql.get<{ headers: string; body: Buffer | null; prunedAt: string | null; outcome: string; changes: string }>(ROW, [id]),
    dump: () => store.sql.all(DUMP),
  };
}
