import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One request as a fake saw it: what tests assert on. */
export interface FakeRequest {
  method: string;
  url: URL;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
  json<T = unknown>(): T;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
}

export type Handler<S> = (req: FakeRequest, params: Record<string, string>, state: S) => FakeReply | Promise<FakeReply>;

export interface Route<S> {
  method: string;
  /** `/_apis/hooks/subscriptions/:id`; matched case-insensitively when the fake says so. */
  path: string;
  handler: Handler<S>;
}

/**
 * What the next matching requests get instead of the real answer: a status (429 with
 * Retry-After, 500...), a dropped connection, or a delay before the real answer (a slow server).
 */
export type Failure = FakeReply | { drop: true } | { delayMs: number };

export interface FailOptions {
  /** How many requests in a row (default 1). */
  times?: number;
  /** Only requests this accepts; the others pass through untouched. */
  match?: (req: FakeRequest) => boolean;
}

export interface FakeServer<S> {
  /** http://127.0.0.1:<port> */
  origin: string;
  state: S;
  /** Every request received, failures included, in order. */
  requests: FakeRequest[];
  failNext(failure: Failure, opts?: FailOptions): void;
  /** Forgets failures not yet served and the request log: a clean slate between tests. */
  reset(): void;
  /** Adds routes (other helpers extend the fakes this way); checked before the built-in ones. */
  route(...routes: Route<S>[]): void;
  close(): Promise<void>;
}

export interface FakeOptions<S> {
  state: S;
  routes: Route<S>[];
  caseInsensitive?: boolean;
  /** Runs before routing (auth, api-version); a reply stops the request there. */
  guard?: (req: FakeRequest, state: S) => FakeReply | undefined;
  notFound: (req: FakeRequest) => FakeReply;
}

/** A real node:http server on 127.0.0.1, port 0, routing by a table. */
export async function startFake<S>(o: FakeOptions<S>): Promise<FakeServer<S>> {
  const routes = [...o.routes];
  const failures: { failure: Failure; left: number; match?: (req: FakeRequest) => boolean }[] = [];
  const requests: FakeRequest[] = [];
  const sockets = new Set<Socket>();

  const compile = (path: string) => {
    const names: string[] = [];
    const source = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:(\w+)/g, (_, n: string) => (names.push(n), "([^/]+)"));
    return { re: new RegExp(`^${source}/?$`, o.caseInsensitive ? "i" : ""), names };
  };

  const handle = async (raw: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of raw) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    const req: FakeRequest = {
      method: raw.method ?? "GET",
      url: new URL(raw.url ?? "/", `http://${raw.headers.host ?? "127.0.0.1"}`),
      headers,
      body,
      json: <T>() => JSON.parse(body) as T,
    };
    requests.push(req);

    const i = failures.findIndex((f) => !f.match || f.match(req));
    if (i >= 0) {
      const f = failures[i]!;
      if (--f.left <= 0) failures.splice(i, 1);
      if ("drop" in f.failure) {
        raw.socket.destroy();
        return;
      }
      if ("delayMs" in f.failure) await new Promise((r) => setTimeout(r, (f.failure as { delayMs: number }).delayMs));
      else return send(res, f.failure);
    }
    const reply = o.guard?.(req, server.state) ?? (await dispatch(req));
    send(res, reply);
  };

  const dispatch = async (req: FakeRequest): Promise<FakeReply> => {
    for (const r of routes) {
      if (r.method !== req.method) continue;
      const { re, names } = compile(r.path);
      const m = re.exec(req.url.pathname);
      if (!m) continue;
      const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
      return r.handler(req, params, server.state);
    }
    return o.notFound(req);
  };

  const send = (res: ServerResponse, reply: FakeReply) => {
    if (res.destroyed) return;
    const isJson = reply.body !== undefined && typeof reply.body !== "string";
    const text = reply.body === undefined ? "" : isJson ? JSON.stringify(reply.body) : (reply.body as string);
    res.writeHead(reply.status, { ...(isJson ? { "content-type": "application/json; charset=utf-8" } : {}), ...reply.headers });
    res.end(text);
  };

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => send(res, { status: 500, body: `fake server bug: ${err.stack}` }));
  });
  http.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;

  const server: FakeServer<S> = {
    origin: `http://127.0.0.1:${port}`,
    state: o.state,
    requests,
    failNext: (failure, opts = {}) => failures.push({ failure, left: opts.times ?? 1, ...(opts.match ? { match: opts.match } : {}) }),
    reset: () => {
      failures.length = 0;
      requests.length = 0;
    },
    route: (...more) => routes.unshift(...more),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        http.close(() => resolve());
      }),
  };
  return server;
}

/** Basic auth's password, whatever the user name (Azure DevOps ignores it). */
export function basicPassword(header: string | undefined): string | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? "");
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}
