import type { AddressInfo } from "node:net";
import { UsageError } from "../errors.js";
import type { Store } from "../store/store.js";
import type { RequestLog } from "./answer.js";
import { DeliveryApplier, type Lookup } from "./apply.js";
import { createFront, type FrontOptions } from "./front.js";
import { PendingRunner } from "./pending.js";
import { DeliveryQueue } from "./queue.js";

export type { RequestLog } from "./answer.js";

export interface ServeOptions extends FrontOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** How often deliveries kept pending are tried again. */
  pendingIntervalMs: number;
}

export interface ServerDeps {
  now: () => Date;
  log: (entry: RequestLog) => void;
  /**
   * Rule 3.5: fills a Jira assignee email the webhook hid, from Jira's REST when credentials
   * are stored. Called only for such deliveries, after authentication, before the delivery's
   * transaction; a failure keeps the delivery pending (rule 10.4).
   */
  lookup?: Lookup;
  /** A failure inside the receiver (the store, mostly: then the request is answered 503 so the tracker retries). */
  onError: (err: Error) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting, lets requests in flight finish, then resolves. */
  close(): Promise<void>;
}

/**
 * The receiver in three parts: the HTTP front (routes, limits, bodies), the delivery queue
 * (order per external issue, group commit, durability) and the applier (verify, then apply or
 * keep pending), with the runner that applies pending deliveries once they can be.
 */
export async function startServer(store: Store, opts: ServeOptions, deps: ServerDeps): Promise<RunningServer> {
  const queue = new DeliveryQueue(store);
  const applier = new DeliveryApplier(store, queue, { now: deps.now, ...(deps.lookup ? { lookup: deps.lookup } : {}) });
  const front = createFront(applier, opts, deps);
  const pending = new PendingRunner(store, applier, {
    intervalMs: opts.pendingIntervalMs,
    applied: (row, a) =>
      deps.log({ time: deps.now().toISOString(), method: "PENDING", path: row.route ?? "", status: null, outcome: a.outcome, reason: a.reason, delivery: a.delivery, ms: 0 }),
    onError: deps.onError,
  });
  const { server } = front;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${opts.host}:${opts.port}`;
      const why: Record<string, string> = {
        EADDRINUSE: "the address is already in use",
        EACCES: "permission denied (ports below 1024 need privileges)",
        EADDRNOTAVAIL: "the host is not an address of this machine",
        ENOTFOUND: "the host name does not resolve",
      };
      reject(new UsageError(`cannot listen on ${where}: ${why[err.code ?? ""] ?? err.message}`, "choose another --host or --port"));
    };
    server.once("error", onError);
    server.listen(opts.port, opts.host, () => {
      server.off("error", onError);
      resolve();
    });
  }).catch((err: unknown) => {
    queue.close();
    throw err;
  });
  pending.start();

  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      (closing ??= (async () => {
        front.stop();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Requests still arriving get until their own timeout; then nothing is left to wait for.
        const cutoff = setTimeout(() => server.closeAllConnections(), opts.requestTimeout + 1000);
        cutoff.unref();
        await closed;
        await front.idle();
        await pending.stop();
        queue.close();
      })()),
  };
}
