import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { StoreError } from "../../src/errors.js";
import { openDb } from "../../src/store/db.js";
import { IdLease, LEASE_RENEW_EVERY_MS, LEASE_TTL_MS } from "../../src/store/id-lease.js";
import { IdLeasesRepo } from "../../src/store/id-leases-repo.js";
import { PgBackend } from "../../src/store/pg-backend.js";
import type { Backend } from "../../src/store/sql.js";
import { SqliteBackend } from "../../src/store/sqlite-backend.js";
import { openStore } from "../../src/store/store.js";
import { backends, type BackendName, storeTargets } from "../pg.js";

afterEach(() => vi.useRealTimers());

const T0 = Date.UTC(2026, 0, 2);

const stores = storeTargets("id_lease");
const opened: Backend[] = [];
afterAll(async () => {
  for (const b of opened) await b.close();
});

/** A fresh, empty store's database on the backend. */
async function backendOn(name: BackendName): Promise<Backend> {
  const backend = name === "sqlite" ? new SqliteBackend(openDb(":memory:"), ":memory:", undefined) : await PgBackend.open(await stores(name));
  opened.push(backend);
  return backend;
}

describe.each(backends)("id worker leases on %s (issue 12 item 1)", (name) => {
  /** Processes sharing one store and one clock: each lease is one process. */
  async function world() {
    const backend = await backendOn(name);
    const clock = { now: T0 };
    const logs: string[] = [];
    const sleeps: number[] = [];
    let onSleep = async () => {};
    const lease = (holder: string) =>
      new IdLease({
        holder,
        now: () => clock.now,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock.now += ms;
          await onSleep();
        },
        log: (line) => logs.push(line),
        alone: (fn) => backend.transaction((tx) => fn(new IdLeasesRepo(tx))),
      });
    /** A lease taken, as a write transaction takes it before it begins. */
    const taken = async (holder: string) => {
      const l = lease(holder);
      await l.prepare();
      return l;
    };
    const row = (worker: number) => backend.sql.get("SELECT holder, expires_at AS expiresAt FROM id_leases WHERE worker = ?", [worker]);
    return { backend, clock, logs, sleeps, lease, taken, row, whileSleeping: (fn: () => Promise<void>) => (onSleep = fn) };
  }

  it("gives two processes on one store different worker numbers", async () => {
    const w = await world();
    const a = await w.taken("a");
    const b = await w.taken("b");
    expect([a.workerAt(T0), b.workerAt(T0)]).toEqual([0, 1]);
    expect(await w.row(0)).toEqual({ holder: "a", expiresAt: T0 + LEASE_TTL_MS });
  });

  it("renews a lease before it runs out, so the worker stays the holder's past the first TTL", async () => {
    const w = await world();
    const a = await w.taken("a");
    for (let step = 0; step < 6; step++) {
      w.clock.now += LEASE_RENEW_EVERY_MS + 1;
      await a.prepare();
    }
    expect(w.clock.now - T0).toBeGreaterThan(2 * LEASE_TTL_MS);
    expect(await w.row(0)).toEqual({ holder: "a", expiresAt: w.clock.now + LEASE_TTL_MS });
    expect((await w.taken("b")).workerAt(w.clock.now)).toBe(1);
    expect(a.workerAt(w.clock.now)).toBe(0);
  });

  it("renews from its timer while the process is idle", async () => {
    const w = await world();
    vi.useFakeTimers({ toFake: ["setInterval"] });
    const a = await w.taken("a");
    w.clock.now += LEASE_RENEW_EVERY_MS;
    const renewed = vi.waitFor(async () => expect(await w.row(0)).toEqual({ holder: "a", expiresAt: w.clock.now + LEASE_TTL_MS }), { interval: 5 });
    vi.advanceTimersByTime(LEASE_RENEW_EVERY_MS);
    await renewed;
    vi.useRealTimers();
    await a.release();
  });

  it("lets another process take a lease that ran out, and its old holder takes another worker", async () => {
    const w = await world();
    const a = await w.taken("a");
    // a is stopped (SIGSTOP, a suspended VM) past its expiry: its worker is free to take.
    w.clock.now += LEASE_TTL_MS;
    expect((await w.taken("b")).workerAt(w.clock.now)).toBe(0);
    await a.prepare();
    expect(a.workerAt(w.clock.now)).toBe(1);
    expect(await w.row(1)).toMatchObject({ holder: "a" });
  });

  it("never hands out an id past the lease inside a transaction, where it cannot be renewed", async () => {
    const w = await world();
    const a = await w.taken("a");
    expect(a.workerAt(T0 + LEASE_TTL_MS - 1)).toBe(0);
    expect(() => a.workerAt(T0 + LEASE_TTL_MS)).toThrow(StoreError);
    expect(a.fresh()).toBe(true);
    w.clock.now += LEASE_TTL_MS / 2 + 1;
    expect(a.fresh()).toBe(false);
  });

  it("takes one worker for transactions that begin at once in one process", async () => {
    const w = await world();
    const a = w.lease("a");
    await Promise.all(Array.from({ length: 10 }, () => a.prepare()));
    expect(a.held).toBe(0);
    expect(await w.backend.sql.all("SELECT worker FROM id_leases WHERE holder = 'a'")).toEqual([{ worker: 0 }]);
  });

  it("hands out no id before the lease is taken", async () => {
    const w = await world();
    expect(() => w.lease("a").workerAt(T0)).toThrow("an id was asked for outside Store.inTransaction");
  });

  it("gives the worker back on release, free from just after its last id", async () => {
    const w = await world();
    const a = await w.taken("a");
    expect(a.workerAt(T0 + 5)).toBe(0);
    await a.release();
    expect(await w.row(0)).toEqual({ holder: "", expiresAt: T0 + 6 });
    // Before that millisecond another process would make ids a's could equal: it takes another.
    expect((await w.taken("b")).workerAt(T0)).toBe(1);
    w.clock.now = T0 + 6;
    expect((await w.taken("c")).workerAt(w.clock.now)).toBe(0);
  });

  it("makes the 17th writer wait until a worker is given back, and say once why", async () => {
    const w = await world();
    const sixteen: IdLease[] = [];
    for (let i = 0; i < 16; i++) sixteen.push(await w.taken(`p${i}`));
    w.whileSleeping(async () => {
      if (w.clock.now - T0 >= 5000) await sixteen[3]!.release();
    });
    const late = await w.taken("p16");
    expect(late.held).toBe(3);
    expect(w.clock.now - T0).toBeGreaterThanOrEqual(5000);
    expect(w.logs).toEqual([expect.stringMatching(/^hooksync: waiting for a free id worker \(all 16 .* at most 16 write at once\)$/)]);
    expect(w.sleeps.slice(0, 4)).toEqual([5, 10, 20, 40]);
    expect(Math.max(...w.sleeps)).toBe(500);
  });
});

describe.each(backends)("id worker leases through the store on %s (issue 12 item 1)", (name) => {
  it("keeps a renewal made before a rolled-back write transaction, and releases the lease on close", async () => {
    const clock = { now: T0 };
    const path = await stores(name);
    const store = await openStore(path, { now: () => clock.now, holder: "me" });
    await store.inTransaction(async (tx) => tx.ids.next());
    clock.now += LEASE_TTL_MS - LEASE_RENEW_EVERY_MS + 1;
    // --dry-run: the transaction is rolled back on purpose; the renewal before it stays.
    await store.inTransaction(async (tx) => tx.ids.next(), true);
    const lease = () => store.sql.all("SELECT holder, expires_at AS expiresAt FROM id_leases");
    expect(await lease()).toEqual([{ holder: "me", expiresAt: clock.now + LEASE_TTL_MS }]);
    await store.close();
    const after = await openStore(path);
    expect(await after.sql.all("SELECT holder FROM id_leases")).toEqual([{ holder: "" }]);
    await after.close();
  });

  it("takes no worker for a store that only reads", async () => {
    const store = await openStore(await stores(name));
    await store.deliveries.list();
    expect(await store.sql.get("SELECT count(*) AS n FROM id_leases")).toEqual({ n: 0 });
    await store.close();
  });
});
