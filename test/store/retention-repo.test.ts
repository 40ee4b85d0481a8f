import { describe, expect, it } from "vitest";
import { firstIdAt } from "../../src/store/ids.js";
import { RetentionRepo } from "../../src/store/retention-repo.js";
import { oldDeliveries } from "../old-deliveries.js";
import { backends, storeTargets } from "../pg.js";
import { world } from "../world.js";

const stores = storeTargets("store_retention_repo");

const rule = { keepFailed: false, dryRun: false, prunedAt: "2026-01-02T03:04:05.000Z" };
const MiB = 1024 * 1024;

describe.each(backends)("RetentionRepo on %s", (backend) => {
  const freshWorld = async () => world(await stores(backend));

  it("selects by id: a delivery of the millisecond before the cutoff goes, one of the cutoff's own millisecond stays", async () => {
    const w = await freshWorld();
    const d = await oldDeliveries(w.db);
    const cutoff = Date.UTC(2026, 0, 1, 12);
    await d.add(new Date(cutoff - 1));
    const stays = await d.add(new Date(cutoff));
    const batch = await new RetentionRepo(d.store.sql).pruneBatch(0, firstIdAt(cutoff), { rows: 10, bytes: MiB }, rule);
    expect(batch).toMatchObject({ deleted: 1, more: false });
    expect(await d.ids()).toEqual([stays]);
  });

  it("ends a batch once it has taken the byte budget of bodies, and the next batch goes on from there", async () => {
    const w = await freshWorld();
    const d = await oldDeliveries(w.db);
    const at = new Date(Date.UTC(2026, 0, 1));
    await d.addMany(5, at, { body: Buffer.alloc(MiB, "x") });
    const below = firstIdAt(at.getTime() + 1000);
    const first = await d.store.inTransaction((tx) => new RetentionRepo(tx.sql).pruneBatch(0, below, { rows: 100, bytes: 2 * MiB }, rule));
    expect(first).toMatchObject({ deleted: 2, more: true });
    expect(await d.ids()).toHaveLength(3);
    expect(await new RetentionRepo(d.store.sql).pruneBatch(first.last, below, { rows: 100, bytes: 2 * MiB }, rule)).toMatchObject({ deleted: 2, more: true });
  });
});
