import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDb } from "../../src/store/db.js";
import { SqliteBackend } from "../../src/store/sqlite-backend.js";
import { tempDir } from "../helpers.js";

const dir = tempDir();
afterAll(dir.cleanup);

describe("SQLite backend: waiting for the write lock (issue 12 item 1)", () => {
  it("waits for another connection's transaction without blocking the thread, then writes", async () => {
    const path = join(dir.path, "lock.db");
    const a = new SqliteBackend(openDb(path), path, path);
    const b = new SqliteBackend(openDb(path), path, path);
    await a.sql.exec("CREATE TABLE t (who TEXT)");
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // a holds the write lock across a wait on the event loop, as a transaction of serve may.
    const first = a.transaction(async (tx) => {
      await tx.run("INSERT INTO t VALUES ('a')");
      order.push("a holds the lock");
      await held;
      order.push("a commits");
    });
    const second = b.transaction(async (tx) => {
      order.push("b has the lock");
      await tx.run("INSERT INTO t VALUES ('b')");
    });
    // Were b's wait blocking, this timer (and a's release) could never run.
    await new Promise((r) => setTimeout(r, 30));
    order.push("timer ran while b waited");
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(["a holds the lock", "timer ran while b waited", "a commits", "b has the lock"]);
    expect(await a.sql.all("SELECT who FROM t")).toEqual([{ who: "a" }, { who: "b" }]);
    await a.close();
    await b.close();
  });

  it("runs a statement from outside after the transaction open on its connection, never inside it", async () => {
    const backend = new SqliteBackend(openDb(":memory:"), ":memory:", undefined);
    await backend.sql.exec("CREATE TABLE t (v INTEGER)");
    const tx = backend.transaction(async (t) => {
      await t.run("INSERT INTO t VALUES (1)");
      await new Promise((r) => setTimeout(r, 10));
      throw new Error("rolled back");
    });
    const outside = backend.sql.run("INSERT INTO t VALUES (2)");
    await expect(tx).rejects.toThrow("rolled back");
    await outside;
    expect(await backend.sql.all("SELECT v FROM t")).toEqual([{ v: 2 }]);
    await backend.close();
  });
});
