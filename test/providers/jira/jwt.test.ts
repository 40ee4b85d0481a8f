import jsonwebtoken from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { BAD_SIGNATURE, signJwt, verifyJwt } from "../../../src/providers/jira/jwt.js";

const SECRET = "jira-secret";
const NOW = 1_700_000_000_000;

/** The same 32 bytes spelled differently: the last base64url character carries 2 bits that decode to nothing. */
function reencoded(token: string): string {
  const [h, c, s] = token.split(".") as [string, string, string];
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(s.at(-1)!);
  const twin = alphabet[last ^ 1]!;
  expect(Buffer.from(s.slice(0, -1) + twin, "base64url")).toEqual(Buffer.from(s, "base64url"));
  return `${h}.${c}.${s.slice(0, -1)}${twin}`;
}

describe("jira jwt (jsonwebtoken, HS256 only)", () => {
  it("signs tokens any HS256 verifier accepts, without an iat so the webhook URL stays the same", () => {
    const token = signJwt({ id: "jira-1" }, SECRET);
    expect(jsonwebtoken.verify(token, SECRET, { algorithms: ["HS256"] })).toEqual({ id: "jira-1" });
    expect(signJwt({ id: "jira-1" }, SECRET)).toBe(token);
  });

  it("refuses a token whose signature was spelled another way (the hand-written check compared decoded bytes)", () => {
    const token = signJwt({ id: "jira-1" }, SECRET);
    expect(verifyJwt(token, SECRET, NOW)).toMatchObject({ ok: true });
    expect(verifyJwt(reencoded(token), SECRET, NOW)).toEqual({ ok: false, reason: BAD_SIGNATURE });
  });

  it("checks exp and nbf against the injected clock", () => {
    const s = NOW / 1000;
    expect(verifyJwt(signJwt({ id: "j", exp: s + 60 }, SECRET), SECRET, NOW)).toMatchObject({ ok: true });
    expect(verifyJwt(signJwt({ id: "j", exp: s }, SECRET), SECRET, NOW)).toEqual({ ok: false, reason: "token has expired" });
    expect(verifyJwt(signJwt({ id: "j", nbf: s + 60 }, SECRET), SECRET, NOW)).toEqual({ ok: false, reason: "token is not valid yet" });
  });
});
