import { randomBytes } from "node:crypto";
import type { OpenOptions } from "./store/db.js";
import type { Store } from "./store/store.js";
import type { Io } from "./io/io.js";

/** Everything a command touches outside itself, passed in so each command runs in-process in tests. */
export interface Deps {
  io: Io;
  now: () => Date;
  randomBytes: (n: number) => Buffer;
  /** Loads better-sqlite3 only when a command needs the store, so --version stays fast. */
  openStore: (path: string, opts?: OpenOptions) => Promise<Store>;
}

export function processDeps(): Deps {
  return {
    io: {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      stdinIsTTY: process.stdin.isTTY === true,
      stdoutIsTTY: process.stdout.isTTY === true,
      stderrIsTTY: process.stderr.isTTY === true,
      env: process.env,
      cwd: process.cwd(),
    },
    now: () => new Date(),
    randomBytes,
    openStore: async (path, opts) => (await import("./store/store.js")).openStore(path, opts),
  };
}
