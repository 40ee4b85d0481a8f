import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, run, tempDir } from "../helpers.js";

/**
 * Root may write anything, so as root the built CLI runs as nobody (65534) on paths root owns;
 * any other user runs it as itself on paths made read-only. Either way the user lacks write access.
 */
const root = process.getuid?.() === 0;
const NOBODY = 65534;

function hooksyncWithoutAccess(argv: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "hooksync.js"), ...argv], {
    env: { PATH: process.env.PATH, HOME: "/nonexistent" },
    encoding: "utf8",
    ...(root ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("permission problems are the user's to fix, said in one line (needs npm run build)", () => {
  const dir = tempDir();
  afterAll(() => {
    chmodSync(dir.path, 0o700);
    dir.cleanup();
  });
  // nobody must reach the test's files: the temp dir is traversable, each case's dir decides.
  chmodSync(dir.path, 0o755);
  let n = 0;
  /** A directory this user cannot write in. */
  const lockedDir = () => {
    const d = join(dir.path, `locked-${n++}`);
    mkdirSync(d, { mode: 0o755 });
    if (!root) chmodSync(d, 0o555);
    return d;
  };

  it("init in a directory this user cannot write names the directory and what to do, exit 1", () => {
    const d = lockedDir();
    const db = join(d, "sub", "hooksync.db");
    const r = hooksyncWithoutAccess(["init", "--db", db]);
    expect(r.stderr).toBe(
      `hooksync: cannot write in ${d}, where the store ${db} and its -wal / -shm files go ` +
        `(make ${d} writable for this user, or point --db / HOOKSYNC_DB somewhere writable)\n`,
    );
    expect(r.code).toBe(1);
  });

  it("a store file this user cannot write is named as not writable, not as a broken store, exit 1", async () => {
    const d = join(dir.path, `open-${n++}`);
    mkdirSync(d, { mode: 0o777 });
    chmodSync(d, 0o777);
    const db = join(d, "hooksync.db");
    expect((await run(["init", "--db", db])).code).toBe(0);
    // Readable by the other user, writable by its owner only.
    chmodSync(db, root ? 0o644 : 0o444);
    const r = hooksyncWithoutAccess(["assign", "BACKEND-1", "jane@example.com", "--db", db]);
    expect(r.stderr).toBe(
      `hooksync: the store ${db} is not writable by this user ` +
        `(make it writable ('chmod u+w ${db}' as its owner) or run hooksync as its owner; 'hooksync doctor' only reads it)\n`,
    );
    expect(r.code).toBe(1);
    chmodSync(db, 0o600);
  });
});
