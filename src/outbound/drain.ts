import type { Dispatcher } from "undici";
import type { Deps } from "../deps.js";
import type { DispatcherOptions } from "../http/dispatcher.js";
import type { Store } from "../store/store.js";
import { environmentCredentials } from "../trackers/credentials.js";
import { type PushResult, type Sender, sendDue, senderId } from "./send.js";
import { Senders } from "./senders.js";

export interface DrainOptions {
  /** How often due rows are looked for when nothing kicks the drain (a row's retry time comes). */
  intervalMs?: number;
  /** Each attempt, as it ends: serve logs it. */
  report?: (result: PushResult) => void;
  /** A failure that is no tracker's answer (a bug, the store): reported, and the drain goes on. */
  onError?: (err: Error) => void;
  /** Request lines (-v). */
  log?: (line: string) => void;
  http?: DispatcherOptions;
}

export interface OutboxDrain {
  /** Look for due rows now: after a commit that queued some. Cheap, never blocks, safe to call often. */
  kick(): void;
  /** No new attempt starts; resolves once the one in flight is recorded. */
  stop(): Promise<void>;
}

export const DEFAULT_DRAIN_INTERVAL_MS = 5_000;
/**
 * The longest Retry-After the drain waits out within a send; a longer one ends the attempt and
 * becomes the row's next attempt time, so stopping serve never waits on a throttled tracker.
 */
const MAX_WAIT_IN_SEND_MS = 5_000;

/** The drain's sender: its own id, credentials from the environment, Retry-After waited out only when short. */
export async function drainSender(store: Store, deps: Pick<Deps, "io" | "now" | "randomBytes" | "sleep">, dispatcher: Dispatcher, log?: (line: string) => void): Promise<Sender> {
  const { baseHttpOptions } = await import("../http/client.js");
  const base = { ...baseHttpOptions(deps, dispatcher, log), retry: { maxRetryAfterMs: MAX_WAIT_IN_SEND_MS } };
  return { id: senderId(deps), store, senders: await Senders.open(store, base, environmentCredentials(deps.io.env), deps), clock: deps };
}

/**
 * serve's outbound sender: sends due outbox rows in the background, one at a time, under claims
 * of its own (another serve or 'hooksync outbound send' on the same store never sends the same
 * row). Credentials come from the environment and the credentials file: a missing one fails the
 * rows that need it, which then wait their backoff; it never stops serve.
 */
export function startOutboxDrain(store: Store, deps: Pick<Deps, "io" | "now" | "randomBytes" | "sleep" | "http">, opts: DrainOptions = {}): OutboxDrain {
  let stopped = false;
  let again = false;
  let running: Promise<void> | undefined;
  let dispatcher: Promise<Dispatcher> | undefined;
  let sender: Sender | undefined;

  const setUp = async (): Promise<Sender> => (sender ??= await drainSender(store, deps, await (dispatcher ??= deps.http(opts.http ?? {})), opts.log));

  const pass = async () => {
    try {
      await sendDue(await setUp(), () => stopped, (r) => opts.report?.(r));
    } catch (err) {
      opts.onError?.(err as Error);
    }
  };

  const kick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await pass();
      } while (again && !stopped);
    })().finally(() => (running = undefined));
  };

  const timer = setInterval(kick, opts.intervalMs ?? DEFAULT_DRAIN_INTERVAL_MS);
  // The timer alone never keeps the process up: serve's server does, until it stops.
  timer.unref();
  kick();

  return {
    kick,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
      if (dispatcher) await (await dispatcher).close();
    },
  };
}
