import { accessSync, closeSync, constants, existsSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { StoreError } from "../errors.js";
import type { Db } from "./db.js";

const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

/** The store file exists but this user may not write it (a read-only file, or a read-only filesystem). */
export function readOnlyFile(path: string): StoreError | null {
  if (!existsSync(path) || writable(path)) return null;
  return new StoreError(
    `the store ${path} is not writable by this user`,
    `make it writable ('chmod u+w ${path}' as its owner) or run hooksync as its owner; 'hooksync doctor' only reads it`,
  );
}

/**
 * The directory the store lives in (or would be made in: the nearest one that exists) is not
 * writable: SQLite keeps its -wal and -shm files beside the store, so that is fatal too.
 */
export function readOnlyDir(path: string): StoreError | null {
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  if (writable(dir)) return null;
  return new StoreError(
    `cannot write in ${dir}, where the store ${path} and its -wal / -shm files go`,
    `make ${dir} writable for this user, or point --db / HOOKSYNC_DB somewhere writable`,
  );
}

/**
 * A consistent copy of the open store at copy (VACUUM INTO reads one snapshot, WAL included, which
 * a copy of the file would not), made private before anything is written into it and renamed into
 * place only once complete, so a copy at that name is always a whole store.
 */
export function backUp(db: Db, copy: string): void {
  const partial = `${copy}.partial-${process.pid}`;
  try {
    rmSync(partial, { force: true });
    // VACUUM INTO fills an existing empty file and keeps its mode: the copy holds webhook secrets.
    closeSync(openSync(partial, "wx", 0o600));
    db.prepare("VACUUM INTO ?").run(partial);
    renameSync(partial, copy);
  } catch (err) {
    rmSync(partial, { force: true });
    throw new StoreError(
      `cannot copy the store to ${copy} before migrating it: ${(err as Error).message}`,
      "the store was not changed; free disk space or make its directory writable, then run the command again",
    );
  }
}
