import { createHmac, timingSafeEqual } from "node:crypto";
import { isObject } from "../schema.js";

/**
 * The HS256 JWT that Jira Server carries in the webhook URL (`/hooks/jira/<jwt>`), signed with
 * the integration's webhook secret. Hand-written: the whole job is ~40 lines, and a library that
 * accepts several algorithms is exactly what the `alg: none` and HS/RS-swap attacks exploit.
 */
const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
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

/** Verifies signature, algorithm (HS256 only) and exp/nbf; returns the claims or why not. */
export function verifyJwt(token: string, secret: string, nowMs: number): Decoded {
  const decoded = decodeJwt(token);
  if (!decoded.ok) return decoded;
  if (decoded.header.alg !== "HS256") return { ok: false, reason: `token algorithm ${JSON.stringify(decoded.header.alg)} is not HS256` };
  const [head, body, sig] = token.split(".") as [string, string, string];
  const expected = createHmac("sha256", secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: BAD_SIGNATURE };
  const { exp, nbf } = decoded.claims;
  const now = nowMs / 1000;
  if (exp !== undefined && (typeof exp !== "number" || exp <= now)) return { ok: false, reason: "token has expired" };
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > now)) return { ok: false, reason: "token is not valid yet" };
  return decoded;
}
