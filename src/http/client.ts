import { type Dispatcher, request } from "undici";
import type { Deps } from "../deps.js";
import { type HooksyncError, UpstreamError } from "../errors.js";
import { type ErrorContext, type StatusAdvices, WEBHOOK_TOKEN, bodyDetail, networkError, statusError } from "./errors.js";
import { RETRYABLE_STATUSES, type RetryPolicy, backoffMs, defaultRetryPolicy, isRetryableError, retryAfterMs, waitMs } from "./retry.js";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface HttpRequest {
  method: Method;
  url: URL;
  /** What hooksync is doing, for messages and logs: "create subscription". */
  what: string;
  headers?: Record<string, string>;
  /** Serialised once and sent as application/json. */
  json?: unknown;
  /** Headers computed anew for every attempt (an OAuth1 signature needs a fresh nonce and timestamp). */
  sign?: (method: Method, url: URL) => Record<string, string>;
  /**
   * Whether sending it twice does no harm. GET, PUT, PATCH and DELETE are; a POST is repeated only when
   * this says so, or on a 429 (the server did not act on it).
   */
  idempotent?: boolean;
  /** Statuses that are answers rather than errors, e.g. 404 for "already deleted". */
  accept?: number[];
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  text: string;
}

/** A provider's reading of an error answer, before the generic status mapping (oauth_problem). */
export type ErrorReader = (res: HttpResponse, req: HttpRequest) => HooksyncError | undefined;

export interface HttpClientOptions {
  dispatcher: Dispatcher;
  /** "Azure DevOps", "Jira": the subject of error messages. */
  service: string;
  sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1), for jitter. */
  random: () => number;
  now: () => Date;
  /** Verbose lines: method, URL without secret query values, status, attempt, time. Never headers or bodies. */
  log?: (line: string) => void;
  advice?: StatusAdvices;
  readError?: ErrorReader;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** What an answer must never repeat on a terminal or in the store: tokens, webhook secrets and URLs. */
  secrets?: readonly string[];
  /** What the user gave to reach the service, for hints: "the base URL" unless said ("the webhook URL"). */
  address?: string;
}

/** What a command sets up once (dispatcher, clock, logging); each tracker adds its own words for errors. */
export type BaseHttpOptions = Omit<HttpClientOptions, "service" | "advice" | "readError" | "address">;

export const DEFAULT_TIMEOUT_MS = 30_000;

/** The shared part from the injected dependencies: clock, sleep, and jitter drawn from deps.randomBytes. */
export function baseHttpOptions(
  deps: Pick<Deps, "sleep" | "now" | "randomBytes">,
  dispatcher: Dispatcher,
  log?: (line: string) => void,
  timeoutMs?: number,
): BaseHttpOptions {
  return {
    dispatcher,
    sleep: deps.sleep,
    now: deps.now,
    random: () => deps.randomBytes(4).readUInt32BE(0) / 2 ** 32,
    ...(log ? { log } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}

/** The one client for every outbound call: timeout, bounded retries with backoff, one-line errors. */
export class HttpClient {
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  /** When a throttled server (Azure DevOps, with Retry-After on a 200) may be called again, ms since the epoch. */
  private readyAt = 0;

  constructor(private readonly opts: HttpClientOptions) {
    this.policy = { ...defaultRetryPolicy, ...opts.retry };
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const repeatable = req.idempotent ?? req.method !== "POST";
    const body = req.json === undefined ? undefined : JSON.stringify(req.json);
    const shown = redactUrl(req.url);
    await this.awaitReady(req);
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const ctx: ErrorContext = { service: this.opts.service, address: this.address, what: req.what, advice: this.opts.advice ?? {}, attempts: attempt };
      const took = () => `${Math.round(performance.now() - started)} ms`;
      let res: HttpResponse;
      try {
        res = await this.send(req, body);
      } catch (err) {
        const code = errorCode(err);
        const again = repeatable && isRetryableError(code) && attempt < this.policy.maxAttempts;
        this.opts.log?.(`${req.method} ${shown} -> ${code ?? "error"} (attempt ${attempt}, ${took()})`);
        if (!again) throw networkError(err, req.url.origin, ctx, this.timeoutMs);
        await this.wait(backoffMs(this.policy, attempt, this.opts.random), req);
        continue;
      }
      this.opts.log?.(`${req.method} ${shown} -> ${res.status} (attempt ${attempt}, ${took()})`);
      if ((res.status >= 200 && res.status < 300) || req.accept?.includes(res.status)) {
        // Azure DevOps throttles by delaying, and says so with Retry-After on answers that succeeded.
        const pause = res.status < 300 ? retryAfterMs(res.headers["retry-after"], this.opts.now()) : undefined;
        if (pause) this.readyAt = Math.max(this.readyAt, this.opts.now().getTime() + pause);
        return res;
      }

      const known = this.opts.readError?.(res, req);
      if (known) throw known;
      const after = waitMs(res.status, res.headers, res.text, this.opts.now());
      if (after !== undefined && after > this.policy.maxRetryAfterMs) throw statusError(res.status, this.detail(res), ctx, after, true);
      const again = RETRYABLE_STATUSES.has(res.status) && (repeatable || res.status === 429) && attempt < this.policy.maxAttempts;
      if (!again) throw statusError(res.status, this.detail(res), ctx, after);
      await this.wait(after ?? backoffMs(this.policy, attempt, this.opts.random), req);
    }
  }

  /** The server's words from an error answer, one line, with no secret the client knows. */
  detail(res: HttpResponse): string | undefined {
    return bodyDetail(res.text, res.headers["content-type"], this.opts.secrets);
  }

  /** Until when the server asked not to be called (ms since the epoch); 0 when it did not. */
  get throttledUntil(): number {
    return this.readyAt;
  }

  /** The pause a throttled server asked for, waited out; past the longest wait, an error that says how long. */
  private async awaitReady(req: HttpRequest): Promise<void> {
    const wait = this.readyAt - this.opts.now().getTime();
    if (wait <= 0) return;
    if (wait > this.policy.maxRetryAfterMs) {
      const s = Math.ceil(wait / 1000);
      throw new UpstreamError(`${this.opts.service} asked hooksync to slow down (Retry-After) before ${req.what}`, `try again in ${s} s`, wait);
    }
    await this.wait(wait, req);
  }

  /** request() and the body parsed as JSON; a body that is not JSON is the server's fault. */
  async json<T>(req: HttpRequest): Promise<T> {
    const res = await this.request({ ...req, headers: { accept: "application/json", ...req.headers } });
    return parseJson<T>(res, this.opts.service, req.what, this.address);
  }

  private get address(): string {
    return this.opts.address ?? "the base URL";
  }

  private async send(req: HttpRequest, body: string | undefined): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      "user-agent": "hooksync",
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...req.headers,
      ...req.sign?.(req.method, req.url),
    };
    // One deadline for headers and body together; undici's own timeouts tick at about a second.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: "ETIMEDOUT" })), this.timeoutMs);
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await request(req.url, { dispatcher: this.opts.dispatcher, method: req.method, headers, body, signal: abort.signal });
      text = await res.body.text();
    } finally {
      clearTimeout(timer);
    }
    const flat: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(res.headers)) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
    return { status: res.statusCode, headers: flat, text };
  }

  private async wait(ms: number, req: HttpRequest): Promise<void> {
    this.opts.log?.(`${req.method} ${redactUrl(req.url)}: retrying in ${(ms / 1000).toFixed(1)} s`);
    await this.opts.sleep(ms);
  }
}

export function parseJson<T>(res: HttpResponse, service: string, what: string, address = "the base URL"): T {
  try {
    return JSON.parse(res.text) as T;
  } catch {
    throw new UpstreamError(
      `${service} answered ${what} with something that is not JSON (HTTP ${res.status}, ${res.headers["content-type"] ?? "no content type"})`,
      `is ${address} ${service}'s own, not a proxy or sign-in page?`,
    );
  }
}

const errorCode = (err: unknown): string | undefined => {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code;
};

const SECRET_PARAM = /^oauth_|token|secret|password|verifier|signature|^sig$|^code$/i;

/** A URL fit for a log line: query values that might be secrets, and a webhook token in the path, become "***". */
export function redactUrl(url: URL): string {
  const u = new URL(url.href);
  u.pathname = u.pathname.replace(WEBHOOK_TOKEN, "$1***");
  for (const name of [...u.searchParams.keys()]) if (SECRET_PARAM.test(name)) u.searchParams.set(name, "***");
  return u.href.replace(/%2A%2A%2A/g, "***");
}
