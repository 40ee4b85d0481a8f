import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ProviderName } from "../providers/types.js";
import type { DeliveryStart } from "../store/deliveries-repo.js";
import { type Answer, type RequestLog, unavailable } from "./answer.js";
import type { DeliveryApplier } from "./apply.js";
import { BodyBudget, readBody } from "./body.js";
import { JIRA_ROUTE, redactPath, storedHeaders } from "./verify.js";

export interface FrontOptions {
  bodyLimit: number;
  /** Time allowed to receive a whole request, headers and body. */
  requestTimeout: number;
  /** Connections open at once; past it new ones are refused by the kernel's backlog and Node. */
  maxConnections: number;
  /** Body bytes held across every request in flight; past it, 503 with Retry-After. */
  maxBufferedBytes: number;
}

export interface FrontDeps {
  now: () => Date;
  log: (entry: RequestLog) => void;
  onError: (err: Error) => void;
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

const firstValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(", ") : v);

/**
 * The HTTP front: routes, limits and bodies. It answers what it can judge alone (404, 405, 413,
 * 415, 503 when out of capacity) and hands every hook request with its body to the applier;
 * every request to a hook route leaves a delivery row, refused ones too (rule 6.1).
 */
export function createFront(applier: DeliveryApplier, opts: FrontOptions, deps: FrontDeps): { server: Server; stop(): void; idle(): Promise<void> } {
  let stopping = false;
  const budget = new BodyBudget(opts.maxBufferedBytes);
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
  server.maxConnections = opts.maxConnections;

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

    let held = 0;
    let a: Answer;
    try {
      a = await hook(req, r, method, shownPath, receivedAt, started, (n) => (held = n));
    } catch (err) {
      deps.onError(err as Error);
      a = unavailable("the store is not available, try again");
    } finally {
      budget.give(held);
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
    holding: (bytes: number) => void,
  ): Promise<Answer> {
    const headers = storedHeaders(req.headers);
    const start: Omit<DeliveryStart, "body" | "bodySize" | "bodySha256"> = {
      receivedAt,
      source: "serve",
      route: shownPath,
      provider: r.provider,
      identity: null,
      externalKey: null,
      headers,
    };
    const refuse = (status: number | null, reason: string, bytes: Buffer | null = null, extra: Partial<Answer> = {}): Promise<Answer> =>
      applier.refuse(start, bytes, status, reason).then((a) => ({ ...a, ...extra }));

    if (method !== "POST") return refuse(405, `method ${method} not allowed`, null, { headers: { allow: "POST" } });
    const over = `body over the limit of ${opts.bodyLimit} bytes`;
    const declared = Number(req.headers["content-length"]);
    if (declared > opts.bodyLimit) return refuse(413, over, null, { close: true });
    // Recorded like any refusal (rule 6.1), without its body: the point is not to hold it.
    const full = () => {
      const busy = unavailable(`the receiver holds ${budget.limit} bytes of bodies already, try again`);
      return refuse(busy.status, busy.reason!, null, { headers: busy.headers!, close: true });
    };
    // Refused before a byte is read: the budget cannot hold it now.
    if (declared > budget.limit - budget.inUse) return full();

    const read = await readBody(req, opts.bodyLimit, budget);
    if (read.kind === "over") return refuse(413, over, null, { close: true });
    if (read.kind === "busy") return full();
    if (read.kind === "gone") {
      // Node itself has answered 408 when the time ran out; a client that left gets nothing.
      return performance.now() - started >= opts.requestTimeout
        ? refuse(408, `request not complete within ${opts.requestTimeout} ms`)
        : refuse(null, "the client closed the connection before the body was complete");
    }
    holding(read.bytes.length);
    if (!isJson(req.headers["content-type"])) {
      return refuse(415, `content-type ${JSON.stringify(req.headers["content-type"] ?? "")} is not JSON`, read.bytes);
    }
    return applier.receive({
      provider: r.provider,
      token: r.token,
      secret: firstValue(req.headers["shared-secret"]),
      method,
      shownPath,
      receivedAt,
      headers,
      bytes: read.bytes,
    });
  }

  return {
    server,
    stop: () => {
      stopping = true;
    },
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (whenIdle = resolve))),
  };
}
