import { createPrivateKey, createSign, generateKeyPairSync, type KeyObject } from "node:crypto";
import OAuth from "oauth-1.0a";
import { AuthError, type HooksyncError, UpstreamError, UsageError } from "../../errors.js";
import type { HttpClient, HttpRequest, HttpResponse } from "../../http/client.js";

/**
 * Jira Server's OAuth 1.0a with RSA-SHA1 (protocols.md D). RSA-SHA1 has no consumer secret and
 * ignores token secrets: only the private key signs.
 */
export interface SignerOptions {
  consumerKey: string;
  privateKey: KeyObject;
  /** Fresh for every call: Jira answers `nonce_used` to a header it has seen. */
  nonce: () => string;
  /** Seconds since the epoch. */
  timestamp: () => number;
}

export interface OAuthToken {
  token: string;
  secret: string;
}

export class OAuthSigner {
  private readonly oauth: OAuth;

  constructor(readonly opts: SignerOptions) {
    this.oauth = new OAuth({
      consumer: { key: opts.consumerKey, secret: "" },
      signature_method: "RSA-SHA1",
      hash_function: (base) => createSign("RSA-SHA1").update(base).sign(opts.privateKey, "base64"),
    });
    this.oauth.getNonce = opts.nonce;
    this.oauth.getTimeStamp = opts.timestamp;
  }

  /**
   * The Authorization header for one attempt. Query parameters and `extra` oauth parameters
   * (oauth_callback, oauth_verifier) are signed; a JSON body is not (RFC 5849 §3.4.1.3).
   */
  authorization(method: string, url: URL, token?: string, extra: Record<string, string> = {}): string {
    const request = { method, url: baseStringUri(url), data: { ...queryParams(url), ...extra } };
    const signed = this.oauth.authorize(request, token === undefined ? undefined : { key: token, secret: "" });
    // toHeader keeps only oauth_* entries, so the query parameters signed above stay out of it.
    return this.oauth.toHeader({ ...signed, ...extra }).Authorization;
  }

  /** A `sign` callback for HttpClient: a new nonce and timestamp on every attempt. */
  signWith(token?: string, extra?: Record<string, string>): NonNullable<HttpRequest["sign"]> {
    return (method, url) => ({ authorization: this.authorization(method, url, token, extra) });
  }
}

/** Scheme and host lower-cased, default port dropped, no query: WHATWG URL already normalises the first two. */
const baseStringUri = (url: URL) => `${url.protocol}//${url.host}${url.pathname}`;

function queryParams(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

export function loadPrivateKey(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new UsageError(`${source} is not an unencrypted PEM private key`, "give the RSA private key whose public key is in Jira's application link, or generate one with --generate-key");
  }
  if (key.asymmetricKeyType !== "rsa") throw new UsageError(`${source} is a ${key.asymmetricKeyType} key, Jira's OAuth needs RSA`, "generate one with --generate-key");
  return key;
}

export function generateRsaKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

export const authorizeUrl = (baseUrl: string, requestToken: string): string =>
  `${baseUrl}/plugins/servlet/oauth/authorize?oauth_token=${encodeURIComponent(requestToken)}`;

/** Temporary credentials, with `oob`: Jira shows the verification code instead of redirecting. */
export async function fetchRequestToken(http: HttpClient, baseUrl: string, signer: OAuthSigner): Promise<OAuthToken> {
  const res = await http.request({
    method: "POST",
    url: new URL(`${baseUrl}/plugins/servlet/oauth/request-token`),
    what: "get a request token",
    sign: signer.signWith(undefined, { oauth_callback: "oob" }),
    // Asking twice only leaves an unused request token behind.
    idempotent: true,
  });
  return tokenFrom(res, "request-token");
}

export async function fetchAccessToken(
  http: HttpClient,
  baseUrl: string,
  signer: OAuthSigner,
  requestToken: string,
  verifier: string,
): Promise<OAuthToken & { expiresInS?: number }> {
  const res = await http.request({
    method: "POST",
    url: new URL(`${baseUrl}/plugins/servlet/oauth/access-token`),
    what: "exchange the verification code for an access token",
    sign: signer.signWith(requestToken, { oauth_verifier: verifier }),
  });
  const token = tokenFrom(res, "access-token");
  const expires = Number(new URLSearchParams(res.text.trim()).get("oauth_expires_in"));
  return Number.isFinite(expires) && expires > 0 ? { ...token, expiresInS: expires } : token;
}

function tokenFrom(res: HttpResponse, step: string): OAuthToken {
  const form = new URLSearchParams(res.text.trim());
  const token = form.get("oauth_token");
  if (!token) {
    throw new UpstreamError(`Jira's answer to ${step} carries no oauth_token`, "is --base-url Jira's base URL (not a proxy or sign-in page)?");
  }
  return { token, secret: form.get("oauth_token_secret") ?? "" };
}

export interface OAuthProblem {
  problem: string;
  advice?: string;
  acceptableTimestamps?: string;
  parametersAbsent?: string;
  baseString?: string;
}

/** `oauth_problem` from WWW-Authenticate or a form-encoded body (Jira uses either, or both). */
export function readOAuthProblem(res: HttpResponse): OAuthProblem | undefined {
  const fields = new Map<string, string>();
  const header = res.headers["www-authenticate"];
  if (header && /^\s*OAuth\b/i.test(header)) {
    for (const m of header.matchAll(/([\w-]+)="([^"]*)"/g)) fields.set(m[1]!, safeDecode(m[2]!));
  }
  const body = res.text.trim();
  if (/^[\w.%+-]+=[^&\s]*(&[\w.%+-]+=[^&\s]*)*$/.test(body)) {
    for (const [k, v] of new URLSearchParams(body)) if (!fields.has(k)) fields.set(k, v);
  }
  // Some servlets answer `oauth_error=token+expired` (seen in Sentry's tests) instead.
  const problem = fields.get("oauth_problem") ?? fields.get("oauth_error")?.replace(/\s+/g, "_");
  if (!problem) return undefined;
  const out: OAuthProblem = { problem };
  const set = (key: keyof OAuthProblem, name: string) => {
    const v = fields.get(name);
    if (v) out[key] = v;
  };
  set("advice", "oauth_problem_advice");
  set("acceptableTimestamps", "oauth_acceptable_timestamps");
  set("parametersAbsent", "oauth_parameters_absent");
  set("baseString", "oauth_signature_base_string");
  return out;
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export type OAuthStage = "request-token" | "access-token" | "api";

export const stageOf = (url: URL): OAuthStage =>
  url.pathname.endsWith("/oauth/request-token") ? "request-token" : url.pathname.endsWith("/oauth/access-token") ? "access-token" : "api";

const START_AGAIN = "run 'hooksync oauth jira' again";

/** Every problem of OAuth's problem-reporting extension that Jira answers, as a line with what to do. */
export function oauthProblemError(p: OAuthProblem, stage: OAuthStage, consumerKey: string, called?: URL): HooksyncError {
  const advice = p.advice ? ` (Jira: ${p.advice})` : "";
  const tokenHint = stage === "api" ? `the access token no longer works: ${START_AGAIN}` : `the request token expired, was used, or access was denied: ${START_AGAIN}`;
  const table: Record<string, [string, string]> = {
    consumer_key_unknown: [
      `Jira knows no OAuth consumer "${consumerKey}"`,
      "create an incoming application link with exactly this consumer key and your public key (hooksync oauth jira --generate-key shows the steps)",
    ],
    signature_invalid: ["Jira could not verify the request's RSA-SHA1 signature", signatureHint(p, called)],
    signature_method_rejected: ["Jira does not accept RSA-SHA1 signatures from this consumer", "the application link's incoming side needs the public key (OAuth 1.0a)"],
    timestamp_refused: [
      "Jira refused the request's timestamp",
      `this machine's clock is off from Jira's${p.acceptableTimestamps ? ` (Jira accepts ${p.acceptableTimestamps})` : ""}; synchronise it (NTP) and try again`,
    ],
    nonce_used: ["Jira has already seen this request's nonce", "something replayed the request (a retrying proxy?); try again"],
    token_rejected: ["Jira rejected the OAuth token", tokenHint],
    token_expired: ["the OAuth token has expired", tokenHint],
    token_revoked: ["the access token was revoked in Jira", START_AGAIN],
    permission_denied: ["access was denied on Jira's authorize page", `${START_AGAIN} and click Allow`],
    permission_unknown: ["the request token has not been authorised yet", "open the authorize URL, click Allow, then give the verification code"],
    additional_authorization_required: ["the request token has not been authorised yet", "open the authorize URL, click Allow, then give the verification code"],
    parameter_absent: [
      `Jira says OAuth parameters are missing${p.parametersAbsent ? `: ${p.parametersAbsent}` : ""}`,
      "a proxy between here and Jira may strip the Authorization header",
    ],
    parameter_rejected: ["Jira rejected an OAuth parameter", "a proxy may rewrite the request; -v shows the requests"],
    version_rejected: ["Jira rejected OAuth version 1.0", "the server no longer offers OAuth 1.0a application links"],
  };
  const [message, hint] = table[p.problem] ?? [`Jira refused the OAuth request (oauth_problem=${p.problem})`, START_AGAIN];
  return new AuthError(`${message}${advice}`, hint);
}

/**
 * A mismatch is nearly always the URL: behind a reverse proxy Jira signs for the address it
 * believes it has. When Jira tells us its base string, say which address that is.
 */
function signatureHint(p: OAuthProblem, called: URL | undefined): string {
  const theirs = p.baseString?.split("&")[1];
  const mine = called && baseStringUri(called);
  if (theirs && mine && safeDecode(theirs) !== mine) {
    return `Jira signs for ${safeDecode(theirs)} but hooksync called ${mine}: set --base-url to Jira's own base URL`;
  }
  return "the public key in Jira's application link must match --private-key, and --base-url must be Jira's base URL exactly as Jira sees it";
}
