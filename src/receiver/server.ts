import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { UsageError } from "../errors.js";
import type { Delivery, OutcomeKind } from "../pipeline/delivery.js";
import { decodeJson } from "../pipeline/inputs.js";
import type { ProviderName } from "../providers/types.js";
import { JIRA_ROUTE, redactPath, storedHeaders } from "./verify.js";
import type { Arrival } from "./writer.js";
import { WriterClient } from "./writer-client.js";

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
 * The receiver's HTTP front. It reads requests and answers them; a writer thread with its own
 * connection to the store at storePath verifies and applies them (see Writer), so HTTP and
 * SQLite run on two cores. A delivery goes to the writer when its body is complete, and the
 * writer applies deliveries in that order, so the last change to an issue wins; the answer is
 * sent only once its transaction is on disk (rule 6.1). Ordering by the headers instead would let
 * one slow sender hold every other delivery back until --request-timeout.
 */
export async function startServer(storePath: string, opts: ServeOptions, deps: ServerDeps): Promise<RunningServer> {
  if (storePath === ":memory:") throw new UsageError("serve needs a store file, not :memory:", "pass --db <path>");
  let stopping = false;
  const { enrich } = deps;
  const writer = await WriterClient.start(storePath, {
    onError: deps.onError,
    ...(enrich
      ? {
          lookup: async (a: Arrival, integration: string) => {
            const delivery: Delivery = { source: `${a.method} ${a.route}`, body: decodeJson(a.body!), headers: a.headers, provider: a.provider };
            const enriched = await enrich(delivery, integration);
            return enriched !== delivery && enriched.body.ok ? JSON.stringify(enriched.body.value) : null;
          },
        }
      : {}),
  });
  // A request whose client left is still recorded after its connection closed; stopping waits
  // for it too, so the store is never closed under a queued write.
  let inFlight = 0;
  let whenIdle: (() => void) | undefined;

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
    const secret = req.headers["shared-secret"];
    const arrival: Omit<Arrival, "seq"> = {
      receivedAt,
      nowMs: deps.now().getTime(),
      method,
      route: shownPath,
      provider: r.provider,
      token: r.token,
      headers: storedHeaders(req.headers),
      sharedSecret: Array.isArray(secret) ? secret.join(", ") : secret,
      body: null,
    };
    // Every request to a hook route leaves a delivery row, refused ones too (rule 6.1).
    const refuse = async (status: number | null, reason: string, extra: Partial<Answer> = {}): Promise<Answer> => ({
      ...(await writer.submit({ ...arrival, refused: { status, reason } })),
      ...extra,
    });

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
    arrival.body = read.bytes;
    if (!isJson(req.headers["content-type"])) {
      return refuse(415, `content-type ${JSON.stringify(req.headers["content-type"] ?? "")} is not JSON`);
    }
    return writer.submit(arrival);
  }

  const listening = new Promise<void>((resolve, reject) => {
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
  try {
    await listening;
  } catch (err) {
    await writer.stop();
    throw err;
  }

  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        stopping = true;
        const done = () => void writer.stop().then(resolve);
        server.close(() => (inFlight === 0 ? done() : (whenIdle = done)));
        server.closeIdleConnections();
        // Requests still arriving get until their own timeout; then nothing is left to wait for.
        setTimeout(() => server.closeAllConnections(), opts.requestTimeout + 1000).unref();
      })),
  };
}
