import { randomBytes } from "node:crypto";
import type { Dispatcher } from "undici";
import type { DispatcherOptions } from "./http/dispatcher.js";
import type { Io } from "./io/io.js";
import { type Prompter, terminalPrompter } from "./io/prompt.js";
import type { StoreOptions } from "./store/open.js";
import type { Store } from "./store/store.js";

/** Everything a command touches outside itself, passed in so each command runs in-process in tests. */
export interface Deps {
  io: Io;
  now: () => Date;
  randomBytes: (n: number) => Buffer;
  /**
   * Loads the store's driver only when a command needs the store, so --version stays fast.
   * target is a path, `sqlite:` or `postgres://` URL; opts.log is where a migration, or a wait
   * for a free id worker, is said.
   */
  openStore: (target: string, opts?: StoreOptions) => Promise<Store>;
  /**
   * The undici dispatcher every outbound call goes through: in production an agent honouring
   * HTTPS_PROXY/HTTP_PROXY/NO_PROXY and the CA options; in tests a plain Agent or a MockAgent.
   * The caller closes it.
   */
  http: (opts: DispatcherOptions) => Promise<Dispatcher>;
  /** Waits between retries; tests pass one that returns at once and records the delays. */
  sleep: (ms: number) => Promise<void>;
  prompter: Prompter;
  /** Opens a URL in the desktop's browser; null where there is no desktop (SSH, CI). */
  openUrl: ((url: string) => Promise<boolean>) | null;
}

export function processDeps(): Deps {
  const io: Io = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: process.stdin.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
  return {
    io,
    now: () => new Date(),
    randomBytes,
    openStore: async (target, opts) => (await import("./store/store.js")).openStore(target, opts),
    http: async (opts) => (await import("./http/dispatcher.js")).createDispatcher(opts, io.env),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    prompter: terminalPrompter(io),
    openUrl: hasDesktop(io.env) ? async (url) => (await import("./io/browser.js")).openInBrowser(url) : null,
  };
}

function hasDesktop(env: Io["env"]): boolean {
  if (process.platform === "darwin" || process.platform === "win32") return !env.SSH_CONNECTION;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY) && !env.SSH_CONNECTION;
}
