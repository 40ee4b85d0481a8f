import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AuthError } from "../../../src/errors.js";
import { OAuthSigner, generateRsaKeyPair, loadPrivateKey, oauthProblemError, readOAuthProblem } from "../../../src/providers/jira/oauth.js";
import { parseOAuthHeader, serverBaseString } from "../../fakes/jira.js";
import { fixture } from "../../helpers.js";

const PEM = readFileSync(fixture("oauth/testcase-rsa.pem"), "utf8");
const key = createPrivateKey(PEM);

function signer(consumerKey: string, nonce: string, timestamp: number) {
  return new OAuthSigner({ consumerKey, privateKey: key, nonce: () => nonce, timestamp: () => timestamp });
}

const signatureOf = (header: string) => parseOAuthHeader(header)!.get("oauth_signature");

interface Vector {
  name: string;
  method: string;
  url: string;
  consumer: string;
  nonce: string;
  timestamp: number;
  token?: string;
  extra?: Record<string, string>;
  base: string;
  sig: string;
}

/** protocols.md D.7: exact-match vectors (RSASSA-PKCS1-v1_5 is deterministic). */
const vectors: Vector[] = [
  {
    name: "1 (oauth-ruby, signet): query parameters",
    method: "GET",
    url: "http://photos.example.net/photos?file=vacaction.jpg&size=original",
    consumer: "dpf43f3p2l4k3l03",
    nonce: "13917289812797014437",
    timestamp: 1196666512,
    base: readFileSync(fixture("oauth/base1.txt"), "utf8").trim(),
    sig: "jvTp/wX1TYtByB1m+Pbyo0lnCOLIsyGCH7wke8AUs3BpnwZJtAuEJkvQL2/9n4s5wUmUl4aCI4BwpraNx4RtEXMe5qg5T1LVTGliMRpKasKsW//e+RinhejgCuzoH26dyF8iY2ZZ/5D1ilgeijhV/vBka5twt399mXwaYdCwFYE=",
  },
  {
    name: "2 (signet): no token",
    method: "GET",
    url: "http://term.ie/oauth/example/request_token.php",
    consumer: "key",
    nonce: "c3839c47cb204a20e042b11a5cc9f971",
    timestamp: 1377815426,
    base: "GET&http%3A%2F%2Fterm.ie%2Foauth%2Fexample%2Frequest_token.php&oauth_consumer_key%3Dkey%26oauth_nonce%3Dc3839c47cb204a20e042b11a5cc9f971%26oauth_signature_method%3DRSA-SHA1%26oauth_timestamp%3D1377815426%26oauth_version%3D1.0",
    sig: "P72T4RS8dVBneQPJSY71D3iLEjge2tiivxEasPVoaoDldDgPdwpQfhS1q0th19jB3B3+9P6tBWjpWaVPxrNZe3ssBCiwS/EmXZ/6VCJGU3YoDHMtz+0jCd36NjHj5I6TpLVQ8/rtfy6+EzpdUMz7ydnhKXYqJFPOWnNv8HM1W7I=",
  },
  {
    name: "a: Jira request-token with oauth_callback=oob",
    method: "POST",
    url: "http://jira.example.test:8080/plugins/servlet/oauth/request-token",
    consumer: "hooksync",
    nonce: "4572616e48616d6d65724c61686176",
    timestamp: 1700000000,
    extra: { oauth_callback: "oob" },
    base: "POST&http%3A%2F%2Fjira.example.test%3A8080%2Fplugins%2Fservlet%2Foauth%2Frequest-token&oauth_callback%3Doob%26oauth_consumer_key%3Dhooksync%26oauth_nonce%3D4572616e48616d6d65724c61686176%26oauth_signature_method%3DRSA-SHA1%26oauth_timestamp%3D1700000000%26oauth_version%3D1.0",
    sig: "it9qrYJMYAlcjjrbYAzJ/JosySJJi4jj8hcVs6DS1n6KDG5ct8uyAsC3/Auf3RwsqM3GvYlvwEhiFqNlbRAVXoBQLIN1eAA8zbsc3zkkCHFyLa0hCMl9w5DkJX2xyxgIhnpIXZyB+80zjpqUg/zxZla6aiSTd7yPdypmAbetX6Q=",
  },
  {
    name: "b: Jira access-token with token and verifier",
    method: "POST",
    url: "http://jira.example.test:8080/plugins/servlet/oauth/access-token",
    consumer: "hooksync",
    nonce: "a1b2c3d4e5",
    timestamp: 1700000100,
    token: "RqTok3n",
    extra: { oauth_verifier: "Xy9Zab" },
    base: "POST&http%3A%2F%2Fjira.example.test%3A8080%2Fplugins%2Fservlet%2Foauth%2Faccess-token&oauth_consumer_key%3Dhooksync%26oauth_nonce%3Da1b2c3d4e5%26oauth_signature_method%3DRSA-SHA1%26oauth_timestamp%3D1700000100%26oauth_token%3DRqTok3n%26oauth_verifier%3DXy9Zab%26oauth_version%3D1.0",
    sig: "GMNsXNciUHjiylYnQW+xDWORwc0KSh+R3FVmRK7V47e8R1xwYXg7LHgfYWwasw+IIK9L5L+cz5Uy+PQZFpJ9mEd/F3tTi6RzbM5n4SnzRyZEaJYtaMD0hqPOHhIw6qyr2VjYyG+NYWTon3APxa5OqP/qEeLn1/jBMC0Lu4Dqs88=",
  },
  {
    name: "c: REST call, query with @ encoded twice",
    method: "GET",
    url: "http://jira.example.test:8080/rest/api/2/user/search?username=jane.doe@example.com&maxResults=1",
    consumer: "hooksync",
    nonce: "n0nce42",
    timestamp: 1700000200,
    token: "AcCeSsT0k",
    base: "GET&http%3A%2F%2Fjira.example.test%3A8080%2Frest%2Fapi%2F2%2Fuser%2Fsearch&maxResults%3D1%26oauth_consumer_key%3Dhooksync%26oauth_nonce%3Dn0nce42%26oauth_signature_method%3DRSA-SHA1%26oauth_timestamp%3D1700000200%26oauth_token%3DAcCeSsT0k%26oauth_version%3D1.0%26username%3Djane.doe%2540example.com",
    sig: "dll0Dnh9Y0J9w5PIZ+HdIsOkSbAV7QxFKldngivlyyLw8SZFlmhTgmSEbMt6KTsAANuydY7S0a2B0JW5kaxkH9vKnZJqlIZ5XN0CvZ4KmDLc9XKK2rATV/we9VrsohSAotvTDJuzUu7XtLwmal9958nV6dm4StRcOIDpzdTQC2E=",
  },
];

describe("OAuthSigner (RSA-SHA1)", () => {
  it.each(vectors)("matches D.7 vector $name", (v) => {
    const header = signer(v.consumer, v.nonce, v.timestamp).authorization(v.method, new URL(v.url), v.token, v.extra);
    expect(signatureOf(header)).toBe(v.sig);
    // The signature is over exactly the published base string.
    expect(verify("RSA-SHA1", Buffer.from(v.base), createPublicKey(PEM), Buffer.from(v.sig, "base64"))).toBe(true);
  });

  it.each(vectors)("signs what an independent server rebuilds for vector $name", (v) => {
    const url = new URL(v.url);
    const header = signer(v.consumer, v.nonce, v.timestamp).authorization(v.method, url, v.token, v.extra);
    const params = parseOAuthHeader(header)!;
    const req = { method: v.method, url, headers: {}, body: "", json: <T>() => ({}) as T };
    expect(serverBaseString(v.method, url.origin, req, params)).toBe(v.base);
  });

  it("puts the oauth parameters, percent-encoded, in the header and nothing else", () => {
    const header = signer("hooksync", "n", 1).authorization("GET", new URL("http://jira.test/rest/api/2/user?key=a b"), "tok");
    expect(header).toMatch(/^OAuth oauth_consumer_key="hooksync", oauth_nonce="n", oauth_signature="[^"]+", oauth_signature_method="RSA-SHA1", oauth_timestamp="1", oauth_token="tok", oauth_version="1\.0"$/);
  });

  it("lower-cases the host and drops the default port in the base string", () => {
    const a = signatureOf(signer("k", "n", 1).authorization("GET", new URL("HTTPS://JIRA.Example.com:443/x")));
    const b = signatureOf(signer("k", "n", 1).authorization("GET", new URL("https://jira.example.com/x")));
    expect(a).toBe(b);
  });

  it("takes a fresh nonce and timestamp from its sources on every call", () => {
    let i = 0;
    const s = new OAuthSigner({ consumerKey: "k", privateKey: key, nonce: () => `n${++i}`, timestamp: () => 1000 + i });
    const sign = s.signWith("tok");
    const url = new URL("http://jira.test/x");
    const h1 = parseOAuthHeader(sign("GET", url).authorization)!;
    const h2 = parseOAuthHeader(sign("GET", url).authorization)!;
    expect([h1.get("oauth_nonce"), h2.get("oauth_nonce")]).toEqual(["n1", "n2"]);
    expect([h1.get("oauth_timestamp"), h2.get("oauth_timestamp")]).toEqual(["1001", "1002"]);
  });
});

describe("keys", () => {
  it("loads the PKCS#8 test key and a generated pair, and refuses garbage and non-RSA keys", () => {
    expect(loadPrivateKey(PEM, "k.pem").asymmetricKeyType).toBe("rsa");
    const pair = generateRsaKeyPair();
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(loadPrivateKey(pair.privateKeyPem, "new.pem").asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(() => loadPrivateKey("hot-garbage", "k.pem")).toThrow("k.pem is not an unencrypted PEM private key");
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256", privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    expect(() => loadPrivateKey(ec.privateKey, "ec.pem")).toThrow("ec.pem is a ec key, Jira's OAuth needs RSA");
  });
});

describe("oauth_problem", () => {
  const res = (headers: Record<string, string>, text = "") => ({ status: 401, headers, text });

  it("is read from WWW-Authenticate, percent-decoded, with its companions", () => {
    const p = readOAuthProblem(
      res({ "www-authenticate": 'OAuth realm="http%3A%2F%2Fjira", oauth_problem="timestamp_refused", oauth_acceptable_timestamps="100-200"' }),
    );
    expect(p).toEqual({ problem: "timestamp_refused", acceptableTimestamps: "100-200" });
  });

  it("is read from a form-encoded body, and from Sentry's oauth_error variant", () => {
    expect(readOAuthProblem(res({}, "oauth_problem=parameter_absent&oauth_parameters_absent=oauth_token"))).toEqual({ problem: "parameter_absent", parametersAbsent: "oauth_token" });
    expect(readOAuthProblem(res({}, "oauth_error=token+expired"))).toEqual({ problem: "token_expired" });
    expect(readOAuthProblem(res({}, "<html>nope</html>"))).toBeUndefined();
    expect(readOAuthProblem(res({ "www-authenticate": 'Basic realm="x"' }))).toBeUndefined();
  });

  it.each([
    ["consumer_key_unknown", 'Jira knows no OAuth consumer "hooksync"', "create an incoming application link"],
    ["signature_invalid", "Jira could not verify the request's RSA-SHA1 signature", "must match --private-key"],
    ["signature_method_rejected", "Jira does not accept RSA-SHA1 signatures", "public key"],
    ["timestamp_refused", "Jira refused the request's timestamp", "synchronise it (NTP)"],
    ["nonce_used", "Jira has already seen this request's nonce", "try again"],
    ["token_rejected", "Jira rejected the OAuth token", "run 'hooksync oauth jira' again"],
    ["token_expired", "the OAuth token has expired", "run 'hooksync oauth jira' again"],
    ["token_revoked", "the access token was revoked in Jira", "run 'hooksync oauth jira' again"],
    ["permission_denied", "access was denied on Jira's authorize page", "click Allow"],
    ["permission_unknown", "the request token has not been authorised yet", "give the verification code"],
    ["additional_authorization_required", "the request token has not been authorised yet", "click Allow"],
    ["parameter_absent", "Jira says OAuth parameters are missing", "strip the Authorization header"],
    ["parameter_rejected", "Jira rejected an OAuth parameter", "proxy"],
    ["version_rejected", "Jira rejected OAuth version 1.0", "OAuth 1.0a"],
    ["something_new", "Jira refused the OAuth request (oauth_problem=something_new)", "run 'hooksync oauth jira' again"],
  ])("%s is an AuthError (exit 4) that says what to do", (problem, message, hint) => {
    const e = oauthProblemError({ problem }, "api", "hooksync");
    expect(e).toBeInstanceOf(AuthError);
    expect(e.exitCode).toBe(4);
    expect(e.message).toContain(message);
    expect(e.hint).toContain(hint);
  });

  it("adds Jira's advice and tells apart the dance's tokens from the access token", () => {
    expect(oauthProblemError({ problem: "token_rejected", advice: "token used" }, "access-token", "k").message).toBe("Jira rejected the OAuth token (Jira: token used)");
    expect(oauthProblemError({ problem: "token_rejected" }, "access-token", "k").hint).toContain("the request token expired, was used, or access was denied");
    expect(oauthProblemError({ problem: "token_rejected" }, "api", "k").hint).toContain("the access token no longer works");
  });
});
