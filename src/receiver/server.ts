import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { UsageError } from "../errors.js";
import type { Delivery, Outcome, OutcomeKind } from "../pipeline/delivery.js";
import { decodeJson } from "../pipeline/inputs.js";
import { needsLookup } from "../pipeline/enrich.js";
import { processDelivery } from "../pipeline/process.js";
import { providers } from "../providers/registry.js";
import type { ProviderName } from "../providers/types.js";
import type { DeliveryEnd, DeliveryStart } from "../store/deliveries-repo.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import type { Store } from "../store/store.js";
import { WalSync } from "../store/wal-sync.js";
import { type FindIntegration, JIRA_ROUTE, redactPath, storedHeaders, type Verified, verifyJira, verifyVsts } from "./verify.js";

export interface ServeOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  bodyLimit: number;
  /** Time allowed to receive a whole request, headers and body. */
  requestTimeout: number;
}

/** One line per request (stderr, or stdout with --json). */
export interface RequestLog {
  time: string;
  method: string;
  path: string;
  /** null when the client left before it could be answered. */
  status: number | null;
  outcome: OutcomeKind | null;
  reason: string | null;
  delivery: number | null;
  ms: number;
}

export interface ServerDeps {
  now: () => Date;
  log: (entry: RequestLog) => void;
  /**
   * Rule 3.5: fills a Jira assignee email the webhook hid, from Jira's REST when credentials
   * are stored. Called only for such deliveries (needsLookup), after authentication, before the
   * delivery's transaction.
   */
  enrich?: (delivery: Delivery, integration: string) => Promise<Delivery>;
  /** A failure inside the receiver (the store, mostly: then the request is answered 503 so the tracker retries). */
  onError: (err: Error) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting, lets requests in flight finish, then resolves. */
  close(): Promise<void>;
}

type Route = { kind: "health" } | { kind: "hook"; provider: ProviderName; token: string };

function route(path: string): Route | undefined {
  if (path === "/healthz") return { kind: "health" };
  if (path === "/hooks/vsts") return { kind: "hook", provider: "vsts", token: "" };
  if (path === "/hooks/jira") return { kind: "hook", provider: "jira", token: "" };
  if (path.startsWith(JIRA_ROUTE)) return { kind: "hook", provider: "jira", token: path.slice(JIRA_ROUTE.length) };
  return undefined;
}

/** application/json with any parameters, or any structured `+json` type. */
function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || /^[\w.!#$&^-]+\/[\w.!#$&^+-]+\+json$/.test(type);
}

type BodyRead = { kind: "body"; bytes: Buffer } | { kind: "over" } | { kind: "gone" };

/** Buffers the body up to the limit; past it, stops at once (the caller answers 413 and closes). */
function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (r: BodyRead) => {
      req.off("data", onData).off("end", onEnd).off("close", onGone);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) done({ kind: "over" });
      else chunks.push(chunk);
    };
    const onEnd = () => done({ kind: "body", bytes: Buffer.concat(chunks, size) });
    const onGone = () => done({ kind: "gone" });
    // An aborted request emits 'error' only when someone listens; 'close' tells us the same.
    req.on("error", () => {});
    req.on("data", onData).on("end", onEnd).on("close", onGone);
  });
}

const verdictOf = (o: Pick<Outcome, "outcome">): number => (o.outcome === "rejected" ? 400 : 200);

interface Answer {
  status: number | null;
  outcome: OutcomeKind | null;
  reason: string | null;
  delivery: number | null;
  headers?: Record<string, string>;
  /** For a body over the limit: do not read the rest, close the connection after answering. */
  close?: boolean;
}

/**
 * Group commit: the writes queued while the event loop was busy run in one transaction, in the
 * order they were queued, and each learns its answer only once that transaction is on disk. The
 * WAL sync runs off the event loop, so the next batch is applied while the disk works, and one
 * sync serves every batch committed before it started. A write that fails alone fails alone; when
 * SQLite has rolled the whole transaction back, every write of the batch fails (answered 503).
 */
function groupCommit(store: Store, wal: WalSync): (write: () => Answer) => Promise<Answer> {
  type Queued = { write: () => Answer; resolve: (a: Answer) => void; reject: (e: unknown) => void };
  type Result = { ok: true; answer: Answer } | { ok: false; error: unknown };
  let queued: Queued[] = [];
  const settle = (batch: Queued[], results: Result[]) =>
    batch.forEach((b, i) => {
      const r = results[i]!;
      if (r.ok) b.resolve(r.answer);
      else b.reject(r.error);
    });
  const flush = () => {
    const batch = queued;
    queued = [];
    let results: Result[];
    try {
      results = store.inTransaction(() =>
        store.applying(() =>
          batch.map(({ write }): Result => {
            try {
              return { ok: true, answer: write() };
            } catch (error) {
              if (!store.db.inTransaction) throw error;
              return { ok: false, error };
            }
          }),
        ),
      );
    } catch (error) {
      return settle(batch, batch.map(() => ({ ok: false, error })));
    }
    wal.sync().then(
      () => settle(batch, results),
      (error: unknown) => settle(batch, batch.map(() => ({ ok: false, error }))),
    );
  };
  return (write) =>
    new Promise((resolve, reject) => {
      if (queued.length === 0) setImmediate(flush);
      queued.push({ write, resolve, reject });
    });
}

/**
 * The receiver. A delivery arrives when its body is complete; from there, authentication and
 * the assignee lookup run one delivery at a time in arrival order, and its transaction (the
 * delivery row and its changes together) is queued in that order, so the last change to an issue
 * wins; the answer is sent only after the commit (rule 6.1). Ordering by the headers instead
 * would let one slow sender hold every other delivery back until --request-timeout.
 */
export async function startServer(store: Store, opts: ServeOptions, deps: ServerDeps): Promise<RunningServer> {
  let stopping = false;
  const lookup: FindIntegration = (id) => store.integrations.byExternalId(id);
  const wal = WalSync.open(store.path);
  const commit = groupCommit(store, wal);
  // A request whose client left is still recorded after its connection closed; stopping waits
  // for it too, so the store is never closed under a queued write.
  let inFlight = 0;
  let whenIdle: (() => void) | undefined;
  // Each delivery waits until the one before it is queued for commit, not committed: the answer
  // travels wrapped, so the chain does not wait for it.
  type Queued = { answer: Promise<Answer> };
  let arrivals: Promise<unknown> = Promise.resolve();
  const inOrder = (fn: () => Promise<Queued>): Promise<Queued> => {
    const next = arrivals.then(fn);
    arrivals = next.catch(() => {});
    return next;
  };

  const server = createServer(
    {
      requestTimeout: opts.requestTimeout,
      headersTimeout: Math.min(opts.requestTimeout, 60_000),
      // Node checks the timeouts above on this interval (30 s by default, too coarse for them).
      connectionsCheckingInterval: Math.min(1000, opts.requestTimeout),
    },
    (req, res) => {
      inFlight++;
      void handle(req, res)
        .catch((err: Error) => deps.onError(err))
        .finally(() => {
          if (--inFlight === 0) whenIdle?.();
        });
    },
  );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const receivedAt = deps.now().toISOString();
    const method = req.method ?? "GET";
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const shownPath = redactPath(path);

    const send = (a: Answer, body: unknown = { outcome: a.outcome, reason: a.reason, delivery: a.delivery }) => {
      if (a.status === null || res.headersSent || res.destroyed) return;
      const text = JSON.stringify(body);
      res.writeHead(a.status, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(text),
        "cache-control": "no-store",
        ...(stopping || a.close ? { connection: "close" } : {}),
        ...a.headers,
      });
      res.end(method === "HEAD" ? undefined : text);
    };
    const log = (a: Answer) =>
      deps.log({
        time: receivedAt,
        method,
        path: shownPath,
        status: a.status,
        outcome: a.outcome,
        reason: a.reason,
        delivery: a.delivery,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });

    const r = route(path);
    if (!r) {
      const a: Answer = { status: 404, outcome: null, reason: `no route ${shownPath}`, delivery: null };
      send(a);
      return log(a);
    }
    if (r.kind === "health") {
      const ok = method === "GET" || method === "HEAD";
      const a: Answer = ok
        ? { status: 200, outcome: null, reason: null, delivery: null }
        : { status: 405, outcome: null, reason: `method ${method} not allowed`, delivery: null, headers: { allow: "GET, HEAD" } };
      send(a, ok ? { ok: true } : undefined);
      return log(a);
    }

    let a: Answer;
    try {
      a = await hook(req, r, method, shownPath, receivedAt, started);
    } catch (err) {
      deps.onError(err as Error);
      a = { status: 503, outcome: null, reason: "the store is not available, try again", delivery: null };
    }
    send(a);
    log(a);
  }

  async function hook(
    req: IncomingMessage,
    r: Extract<Route, { kind: "hook" }>,
    method: string,
    shownPath: string,
    receivedAt: string,
    started: number,
  ): Promise<Answer> {
    const start: DeliveryStart = {
      receivedAt,
      source: "serve",
      route: shownPath,
      provider: r.provider,
      identity: null,
      headers: storedHeaders(req.headers),
      body: null,
    };
    // Every request to a hook route leaves a delivery row, refused ones too (rule 6.1).
    const refusal = (status: number | null, reason: string, extra: Partial<Answer> = {}): Answer => {
      const end: DeliveryEnd = { integration: null, event: null, verdict: status, outcome: "rejected", reason, changes: [] };
      return { status, outcome: "rejected", reason, delivery: store.deliveries.record({ ...start, ...end }), ...extra };
    };
    const refuse = (status: number | null, reason: string, extra: Partial<Answer> = {}): Promise<Answer> =>
      commit(() => refusal(status, reason, extra));

    if (method !== "POST") return refuse(405, `method ${method} not allowed`, { headers: { allow: "POST" } });
    const over = `body over the limit of ${opts.bodyLimit} bytes`;
    if (Number(req.headers["content-length"]) > opts.bodyLimit) return refuse(413, over, { close: true });

    const read = await readBody(req, opts.bodyLimit);
    if (read.kind === "over") return refuse(413, over, { close: true });
    if (read.kind === "gone") {
      // Node itself has answered 408 when the time ran out; a client that left gets nothing.
      return performance.now() - started >= opts.requestTimeout
        ? refuse(408, `request not complete within ${opts.requestTimeout} ms`)
        : refuse(null, "the client closed the connection before the body was complete");
    }
    start.body = read.bytes;
    if (!isJson(req.headers["content-type"])) {
      return refuse(415, `content-type ${JSON.stringify(req.headers["content-type"] ?? "")} is not JSON`);
    }

    const body = decodeJson(read.bytes);
    if (body.ok) start.identity = providers[r.provider].deliveryIdentity(body.value, start.headers);
    const secret = req.headers["shared-secret"];
    const verify = (): Verified =>
      r.provider === "jira"
        ? verifyJira(r.token, deps.now().getTime(), lookup)
        : body.ok
          ? verifyVsts(body.value, Array.isArray(secret) ? secret.join(", ") : secret, lookup)
          : { ok: false, status: 400, reason: body.reason };
    // Verified inside the batch's transaction, where looking the integration up is nearly free;
    // a verdict there is also never older than the secret it is checked against.
    const verifyAndApply = (delivery: Delivery) => (): Answer => {
      const verified = verify();
      return verified.ok ? apply(delivery, start, verified.integration) : refusal(verified.status, verified.reason);
    };
    // From here on the sender is authenticated; a Jira body that is not JSON is the pipeline's
    // to reject, like any other malformed payload.
    const delivery: Delivery = { source: `${method} ${shownPath}`, body, headers: start.headers, provider: r.provider };
    const queued = await inOrder(async () => {
      if (!deps.enrich || !needsLookup(delivery)) return { answer: commit(verifyAndApply(delivery)) };
      // Nothing goes to Jira about a payload before its sender is authenticated.
      const verified = verify();
      if (!verified.ok) return { answer: refuse(verified.status, verified.reason) };
      const enriched = await deps.enrich(delivery, verified.integration.externalId);
      return { answer: commit(verifyAndApply(enriched)) };
    });
    return queued.answer;
  }

  /**
   * Runs inside the batch's transaction: the duplicate check and the apply cannot be split, so
   * two copies of one notification (or two serve processes on one store) cannot both apply.
   */
  function apply(delivery: Delivery, start: DeliveryStart, integration: IntegrationRow): Answer {
    const provider = start.provider!;
    const earlier = start.identity ? store.deliveries.appliedBefore(provider, integration.externalId, start.identity) : undefined;
    if (earlier !== undefined) {
      const reason = `redelivery of delivery ${earlier}`;
      const end: DeliveryEnd = { integration: integration.externalId, event: null, verdict: 200, outcome: "ignored", reason, changes: [] };
      return { status: 200, outcome: "ignored", reason, delivery: store.deliveries.record({ ...start, ...end }) };
    }
    let id = 0;
    const outcome = processDelivery(store, delivery, { source: "serve", provider, integration: integration.externalId }, start.receivedAt, {
      begin: () => (id = store.deliveries.begin(start)),
      // The authenticated integration, even when the pipeline rejected the payload before
      // naming one: replay --delivery tells verified deliveries by it.
      finish: (deliveryId, o) =>
        store.deliveries.finish(deliveryId, {
          integration: integration.externalId,
          event: o.event,
          verdict: verdictOf(o),
          outcome: o.outcome,
          reason: o.reason,
          changes: o.changes,
        }, start.body),
    });
    return { status: verdictOf(outcome), outcome: outcome.outcome, reason: outcome.reason, delivery: id };
  }

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
  });

  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        stopping = true;
        const done = () => {
          wal.close();
          resolve();
        };
        server.close(() => (inFlight === 0 ? done() : (whenIdle = done)));
        server.closeIdleConnections();
        // Requests still arriving get until their own timeout; then nothing is left to wait for.
        setTimeout(() => server.closeAllConnections(), opts.requestTimeout + 1000).unref();
      })),
  };
}
