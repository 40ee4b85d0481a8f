import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { spawn } from "node:child_process";
import { main } from "../src/cli/main.js";
import type { Deps } from "../src/deps.js";
import { openStore } from "../src/store/store.js";

export const ROOT = join(import.meta.dirname, "..");
export const fixture = (name: string) => join(ROOT, "test", "fixtures", name);

/** A fresh directory removed after the test file. */
export function tempDir(): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), "hooksync-test-"));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestDepsOptions {
  stdin?: string | Buffer;
  env?: Record<string, string | undefined>;
  cwd?: string;
  tty?: boolean;
  now?: () => Date;
}

/** gh's iostreams.Test(): buffers for the streams, a fixed clock, a real store. */
export function testDeps(o: TestDepsOptions = {}): { deps: Deps; output: () => { stdout: string; stderr: string } } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (c: Buffer) => out.push(c));
  stderr.on("data", (c: Buffer) => err.push(c));
  const deps: Deps = {
    io: {
      stdin: Readable.from(o.stdin === undefined ? [] : [Buffer.from(o.stdin)]),
      stdout,
      stderr,
      stdinIsTTY: o.tty ?? false,
      stdoutIsTTY: o.tty ?? false,
      stderrIsTTY: o.tty ?? false,
      env: o.env ?? {},
      cwd: o.cwd ?? ROOT,
    },
    now: o.now ?? (() => new Date("2026-01-02T03:04:05.000Z")),
    randomBytes,
    openStore: async (path, opts) => openStore(path, opts),
  };
  return {
    deps,
    output: () => ({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
  };
}

/** Runs `hooksync <argv>` in-process. */
export async function run(argv: string[], o: TestDepsOptions = {}): Promise<TestRun> {
  const { deps, output } = testDeps(o);
  const code = await main(argv, deps);
  await new Promise((r) => setImmediate(r));
  return { code, ...output() };
}

/** Runs the built CLI as a child process, the way a user does (needs `npm run build`). */
export function runBin(
  argv: string[],
  o: { stdin?: string | Buffer; env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<TestRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "hooksync.js"), ...argv], {
      cwd: o.cwd ?? ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...o.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
    );
    child.stdin.end(o.stdin ?? "");
  });
}

/** Parses NDJSON output into objects. */
export const ndjson = (text: string): Record<string, unknown>[] =>
  text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
