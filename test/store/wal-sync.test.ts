import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import { openStore, type Store } from "../../src/store/store.js";
import { WalSync } from "../../src/store/wal-sync.js";
import { tempDir } from "../helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function fileStore(): Store {
  const dir = tempDir();
  const store = openStore(join(dir.path, "s.db"));
  cleanups.push(() => {
    store.close();
    dir.cleanup();
  });
  return store;
}

describe("WalSync", () => {
  it("gives every caller that comes while a sync runs the one sync after it", async () => {
    const store = fileStore();
    const wal = WalSync.open(store.path);
    cleanups.unshift(() => wal.close());
    const first = wal.sync();
    const during = [wal.sync(), wal.sync(), wal.sync()];
    expect(during[1]).toBe(during[0]);
    expect(during[2]).toBe(during[0]);
    expect(during[0]).not.toBe(first);
    await Promise.all([first, ...during]);
    // Once the disk is idle, the next caller starts a sync of its own at once.
    const later = wal.sync();
    expect(later).not.toBe(during[0]);
    await later;
  });

  it("covers a commit made while a sync was in flight by the next sync, never by the running one", async () => {
    const store = fileStore();
    store.db.exec("CREATE TABLE t (v INTEGER)");
    const wal = WalSync.open(store.path);
    cleanups.unshift(() => wal.close());
    const order: string[] = [];
    const running = wal.sync().then(() => order.push("running"));
    store.db.prepare("INSERT INTO t VALUES (1)").run();
    const mine = wal.sync().then(() => order.push("mine"));
    await Promise.all([running, mine]);
    expect(order).toEqual(["running", "mine"]);
  });

  it("has nothing to sync for an in-memory store", async () => {
    const store = openStore(":memory:");
    const wal = WalSync.open(store.path);
    await expect(wal.sync()).resolves.toBeUndefined();
    wal.close();
    store.close();
  });

  it("says which file it cannot open when the store has no WAL", () => {
    const store = fileStore();
    rmSync(`${store.path}-wal`);
    expect(() => WalSync.open(store.path)).toThrow(StoreError);
    expect(() => WalSync.open(store.path)).toThrow(/cannot open .*s\.db-wal for syncing/);
  });
});
