import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StoreError } from "../../src/errors.js";
import { openStore, type Store } from "../../src/store/store.js";
import { WalSync } from "../../src/store/wal-sync.js";
import { tempDir } from "../helpers.js";

/** What the disk saw, in order: "sync 1 start", "sync 1 done"... (fdatasync is real, only watched). */
const disk = vi.hoisted(() => ({ events: [] as string[], syncs: 0 }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    const mine = ++disk.syncs;
    disk.events.push(`sync ${mine} start`);
    fs.fdatasync(fd, (err) => {
      disk.events.push(`sync ${mine} done`);
      cb(err);
    });
  };
  return { ...fs, default: { ...fs, fdatasync }, fdatasync };
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function fileStore(): Promise<Store & { file: string }> {
  const dir = tempDir();
  const store = await openStore(join(dir.path, "s.db"));
  cleanups.push(async () => {
    await store.close();
    dir.cleanup();
  });
  return store as Store & { file: string };
}

describe("WalSync", () => {
  it("gives every caller that comes while a sync runs the one sync after it", async () => {
    const store = await fileStore();
    const wal = WalSync.open(store.file);
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
    const store = await fileStore();
    await store.sql.exec("CREATE TABLE t (v INTEGER)");
    const wal = WalSync.open(store.file);
    cleanups.unshift(() => wal.close());
    Object.assign(disk, { events: [], syncs: 0 });
    const running = wal.sync().then(() => disk.events.push("running resolved"));
    await store.sql.run("INSERT INTO t VALUES (1)");
    disk.events.push("commit");
    const mine = wal.sync().then(() => disk.events.push("mine resolved"));
    await Promise.all([running, mine]);
    // The commit came after sync 1 started, so only a sync started after it covers it: sync 2,
    // which starts once sync 1 is done, and only its end may answer the caller.
    expect(disk.events).toEqual(["sync 1 start", "commit", "sync 1 done", "running resolved", "sync 2 start", "sync 2 done", "mine resolved"]);
  });

  it("has nothing to sync for an in-memory store", async () => {
    const store = await openStore(":memory:");
    const wal = WalSync.open(store.location);
    await expect(wal.sync()).resolves.toBeUndefined();
    wal.close();
    await store.close();
  });

  it("says which file it cannot open when the store has no WAL", async () => {
    const store = await fileStore();
    rmSync(`${store.file}-wal`);
    expect(() => WalSync.open(store.file)).toThrow(StoreError);
    expect(() => WalSync.open(store.file)).toThrow(/cannot open .*s\.db-wal for syncing/);
  });
});
