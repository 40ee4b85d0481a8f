import { chmodSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDb } from "../../src/store/db.js";
import { tempDir } from "../helpers.js";

const mode = (file: string) => statSync(file).mode & 0o777;

describe("openDb: file modes", () => {
  const dir = tempDir();
  afterAll(dir.cleanup);
  let n = 0;
  /** A store with its -wal and -shm present (a connection holds them open), all made readable by others. */
  const looseStore = () => {
    const path = join(dir.path, `${n++}.db`);
    const holder = openDb(path);
    holder.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    const files = [path, `${path}-wal`, `${path}-shm`];
    for (const f of files) chmodSync(f, 0o644);
    return { path, files, holder };
  };

  it("creates a new store 0600", () => {
    const path = join(dir.path, "new.db");
    openDb(path).close();
    expect(mode(path)).toBe(0o600);
  });

  it("tightens an existing store others can read to 0600, with its -wal and -shm, when opened for writing", () => {
    const { files, path, holder } = looseStore();
    expect(files.every(existsSync)).toBe(true);
    openDb(path).close();
    expect(files.map(mode)).toEqual([0o600, 0o600, 0o600]);
    holder.close();
  });

  it("leaves the modes of a store opened read-only for doctor to report", () => {
    const { files, path, holder } = looseStore();
    openDb(path, { readonly: true }).close();
    expect(files.map(mode)).toEqual([0o644, 0o644, 0o644]);
    holder.close();
  });
});
