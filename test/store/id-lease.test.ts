import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { StoreError } from "../../src/errors.js";
import { type Db, openDb } from "../../src/store/db.js";
import { IdLease, LEASE_RENEW_EVERY_MS, LEASE_TTL_MS } from "../../src/store/id-lease.js";
import { IdLeasesRepo } from "../../src/store/id-leases-repo.js";
import { openStore } from "../../src/store/store.js";
import { tempDir } from "../helpers.js";

const dir = tempDir();
afterAll(dir.cleanup);
afterEach(() => vi.useRealTimers());

const T0 = Date.UTC(2026, 0, 2);

/** Processes sharing one store and one clock: each lease is one process. */
function world() {
  const db: Db = openDb(":memory:");
  const clock = { now: T0 };
  const logs: string[] = [];
  const sleeps: number[] = [];
  let onSleep = () => {};
  const lease = (holder: string) =>
    new IdLease(new IdLeasesRepo(db), {
      holder,
      now: () => clock.now,
      sleep: (ms) => {
        sleeps.push(ms);
        clock.now += ms;
        onSleep();
      },
      log: (line) => logs.push(line),
      alone: (fn) => db.transaction(fn).immediate(),
      inTransaction: () => db.inTransaction,
    });
  const row = (worker: number) => db.prepare("SELECT holder, expires_at AS expiresAt FROM id_leases WHERE worker = ?").get(worker);
  return { db, clock, logs, sleeps, lease, row, whileSleeping: (fn: () => void) => (onSleep = fn) };
}

describe("id worker leases (issue 12 item 1)", () => {
  it("gives two processes on one store different worker numbers", () => {
    const w = world();
    const a = w.lease("a");
    const b = w.lease("b");
    expect([a.workerAt(T0), b.workerAt(T0)]).toEqual([0, 1]);
    expect(w.row(0)).toEqual({ holder: "a", expiresAt: T0 + LEASE_TTL_MS });
  });

  it("renews a lease before it runs out, so the worker stays the holder's past the first TTL", () => {
    const w = world();
    const a = w.lease("a");
    a.prepare();
    for (let step = 0; step < 6; step++) {
      w.clock.now += LEASE_RENEW_EVERY_MS + 1;
      a.prepare();
    }
    expect(w.clock.now - T0).toBeGreaterThan(2 * LEASE_TTL_MS);
    expect(w.row(0)).toEqual({ holder: "a", expiresAt: w.clock.now + LEASE_TTL_MS });
    expect(w.lease("b").workerAt(w.clock.now)).toBe(1);
    expect(a.workerAt(w.clock.now)).toBe(0);
  });

  it("renews from its timer while the process is idle", () => {
    vi.useFakeTimers();
    const w = world();
    const a = w.lease("a");
    a.prepare();
    w.clock.now += LEASE_RENEW_EVERY_MS;
    vi.advanceTimersByTime(LEASE_RENEW_EVERY_MS);
    expect(w.row(0)).toEqual({ holder: "a", expiresAt: w.clock.now + LEASE_TTL_MS });
    a.release();
  });

  it("lets another process take a lease that ran out, and its old holder takes another worker", () => {
    const w = world();
    const a = w.lease("a");
    a.prepare();
    // a is stopped (SIGSTOP, a suspended VM) past its expiry: its worker is free to take.
    w.clock.now += LEASE_TTL_MS;
    expect(w.lease("b").workerAt(w.clock.now)).toBe(0);
    expect(a.workerAt(w.clock.now)).toBe(1);
    expect(w.row(1)).toMatchObject({ holder: "a" });
  });

  it("never hands out an id past the lease inside a transaction, where it cannot be renewed", () => {
    const w = world();
    const a = w.lease("a");
    a.prepare();
    w.db.transaction(() => {
      expect(a.workerAt(T0 + LEASE_TTL_MS - 1)).toBe(0);
      expect(() => a.workerAt(T0 + LEASE_TTL_MS)).toThrow(StoreError);
    })();
    expect(a.fresh()).toBe(true);
    w.clock.now += LEASE_TTL_MS / 2 + 1;
    expect(a.fresh()).toBe(false);
  });

  it("gives the worker back on release, free from just after its last id", () => {
    const w = world();
    const a = w.lease("a");
    expect(a.workerAt(T0 + 5)).toBe(0);
    a.release();
    expect(w.row(0)).toEqual({ holder: "", expiresAt: T0 + 6 });
    // Before that millisecond another process would make ids a's could equal: it takes another.
    expect(w.lease("b").workerAt(T0)).toBe(1);
    w.clock.now = T0 + 6;
    expect(w.lease("c").workerAt(w.clock.now)).toBe(0);
  });

  it("makes the 17th writer wait until a worker is given back, and say once why", () => {
    const w = world();
    const sixteen = Array.from({ length: 16 }, (_, i) => w.lease(`p${i}`));
    sixteen.forEach((l) => l.prepare());
    w.whileSleeping(() => {
      if (w.clock.now - T0 >= 5000) sixteen[3]!.release();
    });
    const late = w.lease("p16");
    late.prepare();
    expect(late.held).toBe(3);
    expect(w.clock.now - T0).toBeGreaterThanOrEqual(5000);
    expect(w.logs).toEqual([expect.stringMatching(/^hooksync: waiting for a free id worker \(all 16 .* at most 16 write at once\)$/)]);
    expect(w.sleeps.slice(0, 4)).toEqual([5, 10, 20, 40]);
    expect(Math.max(...w.sleeps)).toBe(500);
  });

  it("keeps a renewal made before a rolled-back write transaction, and releases the lease on close", () => {
    const clock = { now: T0 };
    const path = join(dir.path, "lease.db");
    const store = openStore(path, { now: () => clock.now, holder: "me" });
    store.inTransaction(() => store.ids.next());
    clock.now += LEASE_TTL_MS - LEASE_RENEW_EVERY_MS + 1;
    // --dry-run: the transaction is rolled back on purpose; the renewal before it stays.
    store.inTransaction(() => store.ids.next(), true);
    const lease = () => store.db.prepare("SELECT holder, expires_at AS expiresAt FROM id_leases").all();
    expect(lease()).toEqual([{ holder: "me", expiresAt: clock.now + LEASE_TTL_MS }]);
    store.close();
    const after = openStore(path);
    expect(after.db.prepare("SELECT holder FROM id_leases").all()).toEqual([{ holder: "" }]);
    after.close();
  });

  it("takes no worker for a store that only reads", () => {
    const store = openStore(join(dir.path, "reads.db"));
    store.deliveries.list();
    expect(store.db.prepare("SELECT count(*) AS n FROM id_leases").get()).toEqual({ n: 0 });
    store.close();
  });
});
