import { describe, expect, it } from "vitest";
import { DeliveryQueue } from "../../src/receiver/queue.js";
import { backends, storeTargets } from "../pg.js";

const stores = storeTargets("receiver_queue");

describe.each(backends)("the delivery queue on %s", (backend) => {
  it("commits writes queued together, and a write that fails leaves nothing of itself: the others stand", async () => {
    const store = await stores.open(backend);
    const queue = new DeliveryQueue(store);
    const add = (slug: string) => (tx: typeof store) => tx.sql.run("INSERT INTO organizations (slug, name) VALUES (?, ?)", [slug, slug]);
    // Queued in one turn of the event loop: one batch on SQLite, a transaction each on PostgreSQL.
    const results = await Promise.allSettled([
      queue.commit(add("first")),
      queue.commit(async (tx) => {
        await add("half")(tx);
        throw new Error("the write failed half-way");
      }),
      queue.commit(add("third")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const slugs = await store.sql.all<{ slug: string }>("SELECT slug FROM organizations ORDER BY slug");
    expect(slugs.map((r) => r.slug)).toEqual(["first", "third"]);
  });
});
