import { AuthError, type HooksyncError, UpstreamError } from "../errors.js";

/** What to tell the user for a status, when the tracker's client knows better than "HTTP 404". */
export interface StatusAdvice {
  message: string;
  hint: string;
}

export type StatusAdvices = Partial<Record<401 | 403 | 404, StatusAdvice>>;

export interface ErrorContext {
  /** "Azure DevOps", "Jira". */
  service: string;
  /** What the user gave to reach it: "the base URL", "the webhook URL". */
  address: string;
  /** What hooksync was doing: "list subscriptions". */
  what: string;
  advice: StatusAdvices;
  attempts: number;
}

/**
 * The tracker's own words from an error body, one line: VSS (`message`), Jira (`errorMessages`,
 * `errors`, `messages[].message|key`), or short plain text. HTML pages (sign-in, proxies) say
 * nothing useful in one line and are left out.
 */
export function bodyDetail(text: string, contentType: string | undefined, secrets: readonly string[] = []): string | undefined {
  const t = withoutSecrets(text, secrets).trim();
  if (!t || /html/i.test(contentType ?? "") || t.startsWith("<")) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    const found: string[] = [];
    if (typeof v === "object" && v !== null) {
      const o = v as Record<string, unknown>;
      if (typeof o.message === "string") found.push(o.message);
      if (Array.isArray(o.errorMessages)) found.push(...o.errorMessages.filter((m): m is string => typeof m === "string"));
      if (typeof o.errors === "object" && o.errors !== null) {
        for (const [k, m] of Object.entries(o.errors)) if (typeof m === "string") found.push(`${k}: ${m}`);
      }
      if (Array.isArray(o.messages)) {
        for (const m of o.messages as Record<string, unknown>[]) {
          const s = m?.message ?? m?.key;
          if (typeof s === "string") found.push(s);
        }
      }
    }
    return found.length ? flattened(found.join("; ")) : undefined;
  } catch {
    return flattened(t);
  }
}

/** A Discord webhook's token is a path segment: /api/webhooks/{id}/{token}. */
export const WEBHOOK_TOKEN = /(\/webhooks\/\d+\/)[^/?#\s"']+/g;

/** Shorter values are not secrets worth the name, and would blank out ordinary words. */
const MIN_SECRET = 8;

/**
 * Text a tracker sent (an error body) or made of it, fit to print or store: every secret hooksync
 * knows (a token, a webhook secret, a webhook URL), as it is or URL-encoded, and any Discord
 * webhook token become "***". The one cleaner for such text.
 */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(WEBHOOK_TOKEN, "$1***");
  const known = secrets.filter((s) => s.length >= MIN_SECRET).flatMap((s) => [s, encodeURIComponent(s)]);
  // Longest first, so a URL goes whole before the token inside it.
  for (const s of [...new Set(known)].sort((a, b) => b.length - a.length)) out = out.split(s).join("***");
  return out;
}

const flattened = (s: string) => {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
};

/**
 * The error for a status. retryAfterMs is the server's Retry-After: kept on the error so a queued
 * push waits it out; beyond the longest wait a command makes, the hint says when to come back.
 */
export function statusError(status: number, detail: string | undefined, ctx: ErrorContext, retryAfterMs?: number, tooLong = false): HooksyncError {
  const said = detail ? `: ${detail}` : "";
  const retryAfterS = tooLong && retryAfterMs !== undefined ? Math.ceil(retryAfterMs / 1000) : undefined;
  const advice = ctx.advice[status as 401 | 403 | 404];
  if (status === 401 || status === 403) {
    return new AuthError(
      `${advice?.message ?? `${ctx.service} refused the credentials`} (HTTP ${status} on ${ctx.what})${said}`,
      advice?.hint ?? "check the credentials and their permissions",
    );
  }
  if (status === 404) {
    return new UpstreamError(`${advice?.message ?? `${ctx.service} has no such resource`} (HTTP 404 on ${ctx.what})${said}`, advice?.hint ?? `check ${ctx.address}`);
  }
  if (status === 429) {
    return new UpstreamError(
      `${ctx.service} is throttling hooksync (HTTP 429 on ${ctx.what})${said}`,
      retryAfterS !== undefined ? `try again in ${retryAfterS} s` : `try again later${gaveUp(ctx)}`,
      retryAfterMs,
    );
  }
  if (status >= 500) {
    return new UpstreamError(`${ctx.service} failed (HTTP ${status} on ${ctx.what})${said}`, `the server is having trouble; try again later${gaveUp(ctx)}`, retryAfterMs);
  }
  return new UpstreamError(`${ctx.service} refused ${ctx.what} (HTTP ${status})${said}`, "this is likely a bug in hooksync or an unsupported server version; -v shows the requests");
}

const gaveUp = (ctx: ErrorContext) => (ctx.attempts > 1 ? `; gave up after ${ctx.attempts} attempts` : "");

const CERT_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
]);

/** undici's and the socket's error codes, as a line that says what to do. */
export function networkError(err: unknown, origin: string, ctx: ErrorContext, timeoutMs: number): HooksyncError {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code;
  const host = origin.replace(/^https?:\/\//, "");
  switch (code) {
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new UpstreamError(`cannot resolve ${host} (${ctx.what})`, `check ${ctx.address}, your DNS, or HTTPS_PROXY`);
    case "ECONNREFUSED":
      return new UpstreamError(`${host} refused the connection (${ctx.what})`, "is the server up? check the URL and its port");
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
      return new UpstreamError(`the connection to ${host} was dropped (${ctx.what})`, `a proxy or the server closed it; try again${gaveUp(ctx)}`);
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
    case "ETIMEDOUT":
      return new UpstreamError(`${host} did not answer within ${timeoutMs / 1000} s (${ctx.what})`, `try again later, or raise --timeout${gaveUp(ctx)}`);
    case "CERT_HAS_EXPIRED":
      return new UpstreamError(`the TLS certificate of ${host} has expired (${ctx.what})`, "renew the server's certificate");
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return new UpstreamError(`the TLS certificate of ${host} is not for that name (${ctx.what})`, "use the host name the certificate names");
  }
  if (code && CERT_CODES.has(code)) {
    return new UpstreamError(`the TLS certificate of ${host} is not trusted (${code}, ${ctx.what})`, "pass --ca-file <pem> or set NODE_EXTRA_CA_CERTS; --insecure only if you must");
  }
  return new UpstreamError(`cannot reach ${host} (${ctx.what}): ${code ?? e?.message ?? String(err)}`, "check the URL, your network and HTTPS_PROXY");
}
