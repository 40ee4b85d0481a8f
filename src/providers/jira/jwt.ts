import jsonwebtoken from "jsonwebtoken";
import { isObject } from "../schema.js";

/**
 * The HS256 JWT that Jira Server carries in the webhook URL (`/hooks/jira/<jwt>`), signed with
 * the integration's webhook secret. jsonwebtoken does the signing and checking, pinned to HS256:
 * a verifier that accepts several algorithms is what the `alg: none` and HS/RS-swap attacks use.
 */
const ALGORITHM = "HS256";

/** No iat: the URL `subscribe jira` registers stays the same from one run to the next. */
export function signJwt(claims: Record<string, unknown>, secret: string): string {
  return jsonwebtoken.sign(claims, secret, { algorithm: ALGORITHM, noTimestamp: true });
}

export type Decoded = { ok: true; header: Record<string, unknown>; claims: Record<string, unknown> } | { ok: false; reason: string };

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Reads header and claims without trusting them: enough to find which secret to verify with. */
export function decodeJwt(token: string): Decoded {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p)) || !parts[0] || !parts[1]) {
    return { ok: false, reason: "token is not a JWT" };
  }
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
    const claims: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    if (!isObject(header) || !isObject(claims)) return { ok: false, reason: "token header or claims are not JSON objects" };
    return { ok: true, header, claims };
  } catch {
    return { ok: false, reason: "token header or claims are not JSON" };
  }
}

export const BAD_SIGNATURE = "token signature does not verify";
const EXPIRED = "token has expired";
const NOT_YET = "token is not valid yet";

/** jsonwebtoken's errors in the receiver's words (an exp or nbf that is not a number counts as failing it). */
function reasonOf(err: unknown): string {
  if (err instanceof jsonwebtoken.TokenExpiredError) return EXPIRED;
  if (err instanceof jsonwebtoken.NotBeforeError) return NOT_YET;
  const message = (err as Error).message;
  if (/^invalid exp/.test(message)) return EXPIRED;
  if (/^invalid nbf/.test(message)) return NOT_YET;
  if (/signature/.test(message)) return BAD_SIGNATURE;
  return `token refused: ${message}`;
}

/** Verifies signature, algorithm (HS256 only) and exp/nbf; returns the claims or why not. */
export function verifyJwt(token: string, secret: string, nowMs: number): Decoded {
  const decoded = decodeJwt(token);
  if (!decoded.ok) return decoded;
  // Said before the signature is looked at, so the answer names the algorithm that was tried.
  if (decoded.header.alg !== ALGORITHM) return { ok: false, reason: `token algorithm ${JSON.stringify(decoded.header.alg)} is not HS256` };
  try {
    jsonwebtoken.verify(token, secret, { algorithms: [ALGORITHM], clockTimestamp: nowMs / 1000 });
  } catch (err) {
    return { ok: false, reason: reasonOf(err) };
  }
  return decoded;
}
