import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { BAD_SIGNATURE, decodeJwt, verifyJwt } from "../providers/jira/jwt.js";
import { isObject } from "../providers/schema.js";
import type { Headers, ProviderName } from "../providers/types.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import type { JiraWebhookAuth, JiraWebhookAuthMode } from "../store/jira-webhook-auth-repo.js";

export type FindIntegration = (externalId: string) => Promise<IntegrationRow | undefined>;

export type Verified = { ok: true; integration: IntegrationRow } | { ok: false; status: 400 | 401; reason: string };

const refuse = (status: 400 | 401, reason: string): Verified => ({ ok: false, status, reason });

// Comparing HMACs under a key no caller knows gives equal-length inputs to timingSafeEqual, so
// neither the content nor the length of the secret leaks through timing.
const compareKey = randomBytes(32);
const mac = (s: string) => createHmac("sha256", compareKey).update(s, "utf8").digest();
// The expected side is one of a few integration secrets: its MAC is worth keeping (one HMAC less
// per delivery). Bounded, for a long-running serve whose secrets rotate.
const expectedMacs = new Map<string, Buffer>();
const MAX_EXPECTED = 64;
function expectedMac(secret: string): Buffer {
  let m = expectedMacs.get(secret);
  if (!m) {
    if (expectedMacs.size >= MAX_EXPECTED) expectedMacs.clear();
    expectedMacs.set(secret, (m = mac(secret)));
  }
  return m;
}

export const sameSecret = (given: string, expected: string): boolean => timingSafeEqual(mac(given), expectedMac(expected));

// A secret header missing or wrong reads the same for every provider.
const missingHeader = (name: string): string => `missing ${name} header`;
const wrongHeader = (name: string): string => `wrong ${name} header`;

async function find(lookup: FindIntegration, provider: ProviderName, externalId: string): Promise<IntegrationRow | undefined> {
  const row = await lookup(externalId);
  return row?.provider === provider ? row : undefined;
}

// An unknown integration id is checked against this secret, which no sender can know: the answer
// and the work done are those of a wrong secret, so the receiver does not tell which ids exist.
const UNKNOWN_ID_SECRET = randomBytes(32).toString("base64url");

/**
 * Rules 2.1 and 2.2: the integration named by the payload, then its secret in constant time. An
 * unknown id is refused 401 like a wrong secret (Sentry answers 400 "Integration does not exist").
 */
export async function verifyVsts(body: unknown, sharedSecret: string | undefined, lookup: FindIntegration): Promise<Verified> {
  const containers = isObject(body) ? body.resourceContainers : undefined;
  const collection = isObject(containers) ? containers.collection : undefined;
  const id = isObject(collection) ? collection.id : undefined;
  if (typeof id !== "string" || !id) return refuse(400, "payload has no resourceContainers.collection.id");
  const integration = await find(lookup, "vsts", id);
  if (!sharedSecret) return refuse(401, missingHeader("shared-secret"));
  if (!sameSecret(sharedSecret, integration?.webhookSecret ?? UNKNOWN_ID_SECRET) || !integration) return refuse(401, wrongHeader("shared-secret"));
  return { ok: true, integration };
}

/** What Jira 10's secret tokens are checked with: the header, the raw bytes it signs, and each integration's form. */
export interface JiraSigning {
  /** The `X-Hub-Signature` header as sent. */
  signature: string | undefined;
  bytes: Buffer;
  authOf: (integrationId: number) => Promise<JiraWebhookAuth>;
}

export const SIGNATURE_HEADER = "X-Hub-Signature";

/** Jira DC 10's signature of a body: HMAC-SHA256 under the webhook's secret, as `sha256=<hex>`. */
export const jiraSignature = (bytes: Buffer, secret: string): string => `sha256=${createHmac("sha256", secret).update(bytes).digest("hex")}`;

/** Whether the integration takes deliveries in that form now (its own, or either during a rotation window). */
function accepts(auth: JiraWebhookAuth, form: JiraWebhookAuthMode, nowMs: number): boolean {
  return auth.mode === form || (auth.bothUntil !== null && auth.bothUntil > nowMs);
}

/**
 * Rule 3.1, in the form the integration is verified by. A signed delivery (Jira 10) names its
 * integration in the URL, by id or by the id claim of a Jira 9 JWT kept through an upgrade, and
 * is checked by signature over the raw bytes in constant time; missing or wrong, it is a 401 as
 * for VSTS. An unsigned one goes through the JWT (Jira 9), refused when the integration is
 * verified by signature alone. A signature header reaching an integration still on JWTs (a
 * secret an admin set by hand) is not what it was told to trust: the JWT decides.
 */
export async function verifyJira(token: string, nowMs: number, lookup: FindIntegration, signing?: JiraSigning): Promise<Verified> {
  if (signing?.signature !== undefined) {
    const decoded = decodeJwt(token);
    const named = decoded.ok ? decoded.claims.id : safeDecode(token);
    const integration = typeof named === "string" && named ? await find(lookup, "jira", named) : undefined;
    if (!integration || accepts(await signing.authOf(integration.id), "signature", nowMs)) {
      // An unknown integration is compared against a secret no sender knows: a wrong signature.
      const expected = jiraSignature(signing.bytes, integration?.webhookSecret ?? UNKNOWN_ID_SECRET);
      if (!timingSafeEqual(mac(signing.signature.trim().toLowerCase()), mac(expected)) || !integration) return refuse(401, wrongHeader(SIGNATURE_HEADER));
      return { ok: true, integration };
    }
  }
  const verified = await verifyJiraJwt(token, nowMs, lookup);
  // Jira 10's URL names the integration instead of carrying a JWT: unsigned, it is a missing header.
  const named = verified.ok ? verified.integration : decodeJwt(token).ok ? undefined : await find(lookup, "jira", safeDecode(token));
  if (named && signing && !accepts(await signing.authOf(named.id), "jwt", nowMs)) return refuse(401, missingHeader(SIGNATURE_HEADER));
  return verified;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return "";
  }
}

/**
 * The unverified claims only say which integration's secret to verify with; nothing is trusted
 * until verifyJwt (HS256 only, exp/nbf) accepts the token under that secret. An unknown id is
 * refused as a bad signature, so the receiver does not tell which ids exist.
 */
async function verifyJiraJwt(token: string, nowMs: number, lookup: FindIntegration): Promise<Verified> {
  if (!token) return refuse(400, "no token in the URL");
  const decoded = decodeJwt(token);
  if (!decoded.ok) return refuse(400, decoded.reason);
  const id = decoded.claims.id;
  if (typeof id !== "string" || !id) return refuse(400, "token has no id claim");
  const integration = await find(lookup, "jira", id);
  // An unknown id fails exactly where a known one with a wrong key does (algorithm, then signature).
  const verified = verifyJwt(token, integration?.webhookSecret ?? UNKNOWN_ID_SECRET, nowMs);
  if (!verified.ok) return refuse(400, verified.reason);
  if (!integration) return refuse(400, BAD_SIGNATURE);
  return { ok: true, integration };
}

const SECRET_HEADERS = new Set(["shared-secret", "authorization", "proxy-authorization", "cookie"]);
export const REDACTED = "<redacted>";

/** The headers as a delivery stores them: lowercase names, secrets replaced (rule 6.1). */
export function storedHeaders(headers: IncomingHttpHeaders): Headers {
  const out: Headers = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADERS.has(name) ? REDACTED : Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

export const JIRA_ROUTE = "/hooks/jira/";

/**
 * Three base64url runs joined by dots (the signature may be empty), anywhere in a segment: over-
 * matching a file name like `app.min.js` costs a 404 line some detail, missing a token leaks it.
 */
const JWT_SHAPED = /[\w-]+\.[\w-]+\./;
// %XX decoded byte by byte, again while any is left (double encoding), bounded against a path of
// nested escapes; the result is only matched, never shown, so bytes need not form valid UTF-8.
const ESCAPE = /%[0-9a-f]{2}/gi;
function unescaped(segment: string): string {
  let s = segment;
  for (let i = 0; i < 4 && s.includes("%"); i++) s = s.replace(ESCAPE, (e) => String.fromCharCode(Number.parseInt(e.slice(1), 16)));
  return s;
}

/**
 * The path as logs and the delivery log show it: a JWT is a credential wherever it appears (a
 * proxy's prefix, `//hooks/jira/...`, percent-encoded), and whatever follows `hooks/jira/` is the
 * Jira token even when it is malformed.
 */
export function redactPath(path: string): string {
  if (path.startsWith(JIRA_ROUTE)) return `${JIRA_ROUTE}${REDACTED}`;
  const segments = path.split("/");
  const plain = segments.map(unescaped);
  const out: string[] = [];
  for (const [i, segment] of segments.entries()) {
    if (i >= 2 && plain[i - 2] === "hooks" && plain[i - 1] === "jira") return [...out, REDACTED].join("/");
    out.push(JWT_SHAPED.test(plain[i]!) ? REDACTED : segment);
  }
  return out.join("/");
}
