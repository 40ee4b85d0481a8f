import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { spawn } from "node:child_process";
import { Agent } from "undici";
import { main } from "../src/cli/main.js";
import type { Deps } from "../src/deps.js";
import { terminalPrompter } from "../src/io/prompt.js";
import { openStore } from "../src/store/store.js";

export const ROOT = join(import.meta.dirname, "..");
/** testDeps' fixed clock, in ms; the fake Jira shares it so OAuth timestamps fall inside its window. */
export const NOW = Date.parse("2026-01-02T03:04:05.000Z");
export const fixture = (name: string) => join(ROOT, "test", "fixtures", name);

/** A fresh directory removed after the test file. */
export function tempDir(): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), "hooksync-test-"));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * What streams write, as text, and a wait on it: until(part) resolves once the text so far holds
 * part (a string, or a pattern and then its match), and fails after timeoutMs or, given
 * `ended`, once that settles first. The one way tests wait for a prompt or a log line.
 */
export function watchText(streams: NodeJS.ReadableStream[], ended?: Promise<unknown>) {
  let text = "";
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const w of waiters) w();
  };
  for (const s of streams) {
    s.on("data", (c: Buffer | string) => {
      text += c.toString();
      changed();
    });
  }
  let over = false;
  void ended?.then(() => {
    over = true;
    changed();
  });
  const until = (part: string | RegExp, timeoutMs = 20_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      const check = () => {
        const m = typeof part === "string" ? (text.includes(part) ? Object.assign([part], { index: text.indexOf(part), input: text }) : null) : part.exec(text);
        if (m) resolve(m as RegExpExecArray);
        else if (over) reject(new Error(`ended before writing ${part}: ${text}`));
        else return;
        finish();
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`did not write ${part} within ${timeoutMs} ms: ${text}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { text: () => text, until };
}

export interface TestRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The backoff waits the command asked for, in ms (none were really waited). */
  sleeps: number[];
}

export interface TestDepsOptions {
  /** A string or buffer is all of stdin; a stream lets a test type answers to prompts as they appear. */
  stdin?: string | Buffer | Readable;
  env?: Record<string, string | undefined>;
  cwd?: string;
  tty?: boolean;
  now?: () => Date;
  http?: Deps["http"];
  openUrl?: Deps["openUrl"];
}

/**
 * gh's iostreams.Test(): buffers for the streams, a fixed clock, a real store, a plain undici
 * Agent for the loopback fakes, a sleep that only records, and the real prompter on the streams.
 */
export function testDeps(o: TestDepsOptions = {}): {
  deps: Deps;
  output: () => { stdout: string; stderr: string };
  sleeps: number[];
  /** Resolves once stderr (where prompts go) holds the text. */
  prompted: (part: string | RegExp) => Promise<unknown>;
} {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (c: Buffer) => out.push(c));
  stderr.on("data", (c: Buffer) => err.push(c));
  const screen = watchText([stderr]);
  const sleeps: number[] = [];
  const io: Deps["io"] = {
    stdin: o.stdin instanceof Readable ? o.stdin : Readable.from(o.stdin === undefined ? [] : [Buffer.from(o.stdin)]),
    stdout,
    stderr,
    stdinIsTTY: o.tty ?? false,
    stdoutIsTTY: o.tty ?? false,
    stderrIsTTY: o.tty ?? false,
    env: o.env ?? {},
    cwd: o.cwd ?? ROOT,
  };
  const deps: Deps = {
    io,
    now: o.now ?? (() => new Date(NOW)),
    randomBytes,
    openStore: async (path, opts) => openStore(path, opts),
    http: o.http ?? (async () => new Agent()),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    prompter: terminalPrompter(io),
    openUrl: o.openUrl ?? null,
  };
  return {
    deps,
    output: () => ({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
    sleeps,
    prompted: (part) => screen.until(part),
  };
}

/** Runs `hooksync <argv>` in-process. */
export async function run(argv: string[], o: TestDepsOptions = {}): Promise<TestRun> {
  const { deps, output, sleeps } = testDeps(o);
  const code = await main(argv, deps);
  await new Promise((r) => setImmediate(r));
  return { code, ...output(), sleeps };
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
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), sleeps: [] }),
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

/** The built CLI's `hooksync serve --port 0` as a user runs it (needs `npm run build`). */
export function spawnServe(args: string[], env: Record<string, string | undefined> = {}) {
  const child = spawn(process.execPath, [join(ROOT, "bin", "hooksync.js"), "serve", "--port", "0", ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const stderr = watchText([child.stderr], exited);
  /** Resolves once stderr matches: serve logs every request and every pending delivery it applies. */
  const waitFor = (pattern: RegExp, timeoutMs = 20_000) => stderr.until(pattern, timeoutMs);
  const url = waitFor(/listening on (http:\/\/\S+)/).then((m) => m[1]!);
  return {
    child,
    url,
    exited,
    waitFor,
    output: () => ({ stdout, stderr: stderr.text() }),
    /** SIGTERM, then the exit code. */
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
