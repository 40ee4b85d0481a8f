import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { ID_ATTEMPTS, ID_EPOCH_MS, insertWithId, MAX_WORKER, parseId, SnowflakeIds } from "../../src/store/ids.js";

/** A worker number held for good: what a lease gives while it runs. */
const worker = (n: number) => ({ workerAt: () => n });

describe("snowflake ids (behaviour.md 9.1)", () => {
  it("9.1 generates a million ids across clock steps with no duplicate and in order", () => {
    let clock = ID_EPOCH_MS + 1_000_000;
    const ids = new SnowflakeIds(worker(3), () => clock);
    let last = -1;
    let outOfOrder = 0;
    const seen = new Set<number>();
    for (let i = 0; i < 1_000_000; i++) {
      // Forward jumps, long stalls (sequence overflow) and steps back, as NTP and VMs do.
      if (i % 1000 === 0) clock += 7;
      if (i % 50_000 === 0) clock -= 5_000;
      if (i % 77_777 === 0) clock += 60_000;
      const id = ids.next();
      if (id <= last) outOfOrder++;
      last = id;
      seen.add(id);
    }
    expect(outOfOrder).toBe(0);
    expect(seen.size).toBe(1_000_000);
    expect(Number.isSafeInteger(last)).toBe(true);
  });

  it("9.1 allows at least 100,000 ids a second per process", () => {
    // A clock frozen within one millisecond: every id past 128 borrows from the next ones.
    const ids = new SnowflakeIds(worker(0), () => ID_EPOCH_MS + 5000);
    const first = ids.next();
    for (let i = 1; i < 100_000; i++) ids.next();
    // 100k ids within one real second must not borrow more than that second.
    expect(parseId(ids.next()).ms - parseId(first).ms).toBeLessThan(1000);
  });

  it("9.1 packs version, time, worker and sequence into 53 bits", () => {
    const ids = new SnowflakeIds(worker(MAX_WORKER), () => ID_EPOCH_MS + 123_456);
    const a = parseId(ids.next());
    const b = parseId(ids.next());
    expect(a).toEqual({ version: 1, ms: 123_456, worker: MAX_WORKER, sequence: 0 });
    expect(b).toEqual({ version: 1, ms: 123_456, worker: MAX_WORKER, sequence: 1 });
    expect(() => new SnowflakeIds(worker(MAX_WORKER + 1)).next()).toThrow(RangeError);
  });

  it("9.1 retries a taken id with a fresh one, then fails clearly after 5 tries", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)");
    // As the repositories insert: a taken id changes no row.
    const insert = db.prepare("INSERT INTO t (id) VALUES (?) ON CONFLICT (id) DO NOTHING");
    const ids = new SnowflakeIds(worker(1), () => ID_EPOCH_MS);
    const taken = new SnowflakeIds(worker(1), () => ID_EPOCH_MS);
    insert.run(taken.next());
    insert.run(taken.next());
    const id = await insertWithId(ids, "t", async (i) => insert.run(i).changes);
    expect(parseId(id).sequence).toBe(2);

    let tries = 0;
    await expect(
      insertWithId(ids, "t", async () => {
        tries++;
        return insert.run(id).changes;
      }),
    ).rejects.toThrow(`could not find a free t id after ${ID_ATTEMPTS} tries`);
    expect(tries).toBe(ID_ATTEMPTS);
  });
});
