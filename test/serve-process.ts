import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { ROOT } from "./helpers.js";

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything serve wrote to stderr so far. */
  stderr(): string;
  /** Resolves once stderr matches: serve logs every request and every pending delivery it applies. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** The built CLI's `hooksync serve --port 0` as a user runs it (needs `npm run build`); resolves once it listens. */
export async function spawnServe(args: string[], env: Record<string, string | undefined> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [join(ROOT, "bin", "hooksync.js"), "serve", "--port", "0", ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  const waiters = new Set<() => void>();
  child.stderr!.on("data", (c: Buffer) => {
    err += c.toString("utf8");
    for (const w of waiters) w();
  });
  const waitFor = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(err);
        if (m) {
          finish();
          resolve(m);
        } else if (child.exitCode !== null) {
          finish();
          reject(new Error(`serve exited with ${child.exitCode} before ${pattern}: ${err}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`serve did not print ${pattern} within ${timeoutMs} ms: ${err}`));
      }, timeoutMs);
      const onExit = () => check();
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off("exit", onExit);
      };
      waiters.add(check);
      child.on("exit", onExit);
      check();
    });
  const url = (await waitFor(/listening on (\S+)/))[1]!;
  return {
    url,
    child,
    stderr: () => err,
    waitFor,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      return child.exitCode;
    },
  };
}
