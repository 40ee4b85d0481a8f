import { Agent, MockAgent } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AuthError, UpstreamError } from "../../src/errors.js";
import { HttpClient, type HttpClientOptions, redactUrl } from "../../src/http/client.js";
import { backoffMs, defaultRetryPolicy, retryAfterMs } from "../../src/http/retry.js";
import { type FakeServer, startFake } from "../fakes/server.js";

let fake: FakeServer<{ hits: number }>;
let agent: Agent;

beforeAll(async () => {
  fake = await startFake({
    state: { hits: 0 },
    routes: [
      { method: "GET", path: "/ok", handler: (_q, _p, s) => ({ status: 200, body: { hits: ++s.hits } }) },
      { method: "POST", path: "/ok", handler: () => ({ status: 201, body: { made: true } }) },
    ],
    notFound: () => ({ status: 404, body: { errorMessages: ["nothing here"] } }),
  });
  agent = new Agent();
});
afterAll(async () => {
  await agent.close();
  await fake.close();
});
afterEach(() => fake.reset());

function client(o: Partial<HttpClientOptions> = {}) {
  const sleeps: number[] = [];
  const log: string[] = [];
  const http = new HttpClient({
    dispatcher: agent,
    service: "Tracker",
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    now: () => new Date("2026-01-02T03:04:05.000Z"),
    log: (l) => log.push(l),
    ...o,
  });
  return { http, sleeps, log };
}

const get = (path = "/ok") => ({ method: "GET" as const, url: new URL(`${fake.origin}${path}`), what: "read things" });
const post = (extra = {}) => ({ method: "POST" as const, url: new URL(`${fake.origin}/ok`), what: "make a thing", json: { a: 1 }, ...extra });

describe("HttpClient", () => {
  it("retries 502, 503, 504 and 429 with capped exponential backoff and full jitter", async () => {
    for (const status of [502, 503, 504]) fake.failNext({ status });
    const { http, sleeps } = client();
    const res = await http.json<{ hits: number }>(get());
    expect(res.hits).toBeGreaterThan(0);
    // random() = 0.5: half of 500, 1000, 2000 ms.
    expect(sleeps).toEqual([250, 500, 1000]);
  });

  it("stops after the bound and says so", async () => {
    fake.failNext({ status: 503 }, { times: 50 });
    const { http, sleeps } = client();
    const err = await http.request(get()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).message).toBe("Tracker failed (HTTP 503 on read things)");
    expect((err as UpstreamError).hint).toBe("the server is having trouble; try again later; gave up after 4 attempts");
    expect(fake.requests).toHaveLength(defaultRetryPolicy.maxAttempts);
    expect(sleeps).toHaveLength(3);
  });

  it("honours Retry-After in seconds and as an HTTP date", async () => {
    fake.failNext({ status: 429, headers: { "retry-after": "7" } });
    fake.failNext({ status: 503, headers: { "retry-after": "Fri, 02 Jan 2026 03:04:15 GMT" } });
    const { http, sleeps } = client();
    await http.request(get());
    expect(sleeps).toEqual([7000, 10_000]);
  });

  it("prefers a 429 body's retry_after (Discord's float seconds), then Retry-After, then X-RateLimit-Reset-After", async () => {
    fake.failNext({ status: 429, headers: { "retry-after": "1" }, body: { message: "You are being rate limited.", retry_after: 0.862, global: false } });
    fake.failNext({ status: 429, headers: { "x-ratelimit-reset-after": "2.5" }, body: "slow down" });
    fake.failNext({ status: 503, headers: { "x-ratelimit-reset-after": "9" } });
    const { http, sleeps } = client();
    await http.request(get());
    // The last is no rate limit: a 503 backs off as usual (half of 2000 ms).
    expect(sleeps).toEqual([862, 2500, 1000]);
  });

  it("does not wait out a Retry-After beyond the cap: it says when to come back", async () => {
    fake.failNext({ status: 429, headers: { "retry-after": "3600" }, body: { message: "TF400733: blocked" } });
    const { http, sleeps } = client();
    const err = (await http.request(get()).catch((e: unknown) => e)) as UpstreamError;
    expect(err.message).toBe("Tracker is throttling hooksync (HTTP 429 on read things): TF400733: blocked");
    expect(err.hint).toBe("try again in 3600 s");
    expect(sleeps).toEqual([]);
  });

  it("retries a POST only on 429 unless it is marked idempotent", async () => {
    fake.failNext({ status: 503 });
    await expect(client().http.request(post())).rejects.toThrow("HTTP 503 on make a thing");
    fake.failNext({ status: 429 });
    expect((await client().http.request(post())).status).toBe(201);
    fake.failNext({ status: 503 });
    expect((await client().http.request(post({ idempotent: true }))).status).toBe(201);
  });

  it("retries a dropped connection and a request that times out", async () => {
    fake.failNext({ drop: true });
    fake.failNext({ delayMs: 300 });
    const { http, sleeps, log } = client({ timeoutMs: 100 });
    expect((await http.request(get())).status).toBe(200);
    expect(sleeps).toHaveLength(2);
    expect(log.filter((l) => / -> (UND_ERR_SOCKET|ECONNRESET|ETIMEDOUT) /.test(l))).toHaveLength(2);
  });

  it("maps a server that never answers to one line with the timeout", async () => {
    fake.failNext({ delayMs: 300 }, { times: 10 });
    const err = (await client({ timeoutMs: 100 }).http.request(get()).catch((e: unknown) => e)) as UpstreamError;
    expect(err.message).toMatch(/^127\.0\.0\.1:\d+ did not answer within 0\.1 s \(read things\)$/);
    expect(err.hint).toBe("try again later, or raise --timeout; gave up after 4 attempts");
  });

  it("does not retry a refused connection and says what to check", async () => {
    const { http, sleeps } = client();
    const err = (await http.request({ ...get(), url: new URL("http://127.0.0.1:1/x") }).catch((e: unknown) => e)) as UpstreamError;
    expect(err.message).toBe("127.0.0.1:1 refused the connection (read things)");
    expect(err.hint).toBe("is the server up? check the URL and its port");
    expect(sleeps).toEqual([]);
  });

  it("maps 401/403 to AuthError (exit 4) and 404 to the tracker's advice", async () => {
    const advice = { 401: { message: "the token was refused", hint: "check the token" }, 404: { message: "no such organization", hint: "check the URL" } };
    fake.failNext({ status: 401 });
    const e401 = (await client({ advice }).http.request(get()).catch((e: unknown) => e)) as AuthError;
    expect(e401).toBeInstanceOf(AuthError);
    expect(e401.exitCode).toBe(4);
    expect(`${e401.message} (${e401.hint})`).toBe("the token was refused (HTTP 401 on read things) (check the token)");
    fake.failNext({ status: 403, body: { errorMessages: ["Forbidden for you"] } });
    const e403 = (await client().http.request(get()).catch((e: unknown) => e)) as AuthError;
    expect(e403.exitCode).toBe(4);
    expect(e403.message).toBe("Tracker refused the credentials (HTTP 403 on read things): Forbidden for you");
    const e404 = (await client({ advice }).http.request(get("/missing")).catch((e: unknown) => e)) as UpstreamError;
    expect(`${e404.message} (${e404.hint})`).toBe("no such organization (HTTP 404 on read things): nothing here (check the URL)");
  });

  it("words its hints after what the user gave to reach the service: a Discord webhook URL, not a base URL", async () => {
    const discord = client({ service: "Discord", address: "the webhook URL" }).http;
    const e404 = (await discord.request(get("/missing")).catch((e: unknown) => e)) as UpstreamError;
    expect(e404.hint).toBe("check the webhook URL");
    fake.failNext({ status: 200, headers: { "content-type": "text/html" }, body: "<html>sign in</html>" });
    const notJson = (await discord.json(get()).catch((e: unknown) => e)) as UpstreamError;
    expect(notJson.hint).toBe("is the webhook URL Discord's own, not a proxy or sign-in page?");
    const tracker = (await client().http.request(get("/missing")).catch((e: unknown) => e)) as UpstreamError;
    expect(tracker.hint).toBe("check the base URL");
  });

  it("lets a tracker read its own errors first", async () => {
    fake.failNext({ status: 401, headers: { "www-authenticate": 'OAuth oauth_problem="token_rejected"' } });
    const readError = (res: { headers: Record<string, string | undefined> }) => (res.headers["www-authenticate"] ? new AuthError("token rejected", "sign in again") : undefined);
    await expect(client({ readError }).http.request(get())).rejects.toThrow("token rejected");
  });

  it("calls sign() for every attempt", async () => {
    fake.failNext({ status: 503 });
    let n = 0;
    await client().http.request({ ...get(), sign: () => ({ authorization: `OAuth n="${++n}"` }) });
    expect(fake.requests.map((q) => q.headers.authorization)).toEqual(['OAuth n="1"', 'OAuth n="2"']);
  });

  it("never puts a header, a body or a secret query value in logs or errors", async () => {
    fake.failNext({ status: 502 });
    fake.failNext({ status: 500, body: "<html>secret page s3cr3t-body</html>", headers: { "content-type": "text/html" } });
    const { http, log } = client();
    const err = (await http
      .request({ ...get("/ok?oauth_token=s3cr3t-token&username=jane"), headers: { authorization: "Bearer s3cr3t-header" }, json: { password: "s3cr3t-json" } })
      .catch((e: unknown) => e)) as UpstreamError;
    const everything = [...log, err.message, err.hint ?? ""].join("\n");
    for (const secret of ["s3cr3t-token", "s3cr3t-header", "s3cr3t-json", "s3cr3t-body"]) expect(everything).not.toContain(secret);
    expect(log[0]).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/ok\?oauth_token=\*\*\*&username=jane -> 502 \(attempt 1, \d+ ms\)$/);
  });

  it("works through an injected MockAgent with the network closed", async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    mock.get("https://tracker.test").intercept({ path: "/x", method: "GET" }).reply(503, "");
    mock.get("https://tracker.test").intercept({ path: "/x", method: "GET" }).reply(200, { fine: true });
    const { http, sleeps } = client({ dispatcher: mock });
    expect(await http.json({ method: "GET", url: new URL("https://tracker.test/x"), what: "x" })).toEqual({ fine: true });
    expect(sleeps).toEqual([250]);
    mock.assertNoPendingInterceptors();
    await mock.close();
  });
});

describe("retry arithmetic", () => {
  it("caps the exponential ceiling and draws the wait uniformly below it", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(defaultRetryPolicy, a, () => 0.999999))).toEqual([499, 999, 1999, 3999, 7999, 7999, 7999]);
    expect(backoffMs(defaultRetryPolicy, 3, () => 0)).toBe(0);
  });

  it.each([
    ["120", 120_000],
    ["0.5", 500],
    ["Fri, 02 Jan 2026 03:05:05 GMT", 60_000],
    ["Thu, 01 Jan 2026 00:00:00 GMT", 0],
    ["soon", undefined],
    [undefined, undefined],
  ])("reads Retry-After %j as %j ms", (value, ms) => {
    expect(retryAfterMs(value, new Date("2026-01-02T03:04:05.000Z"))).toBe(ms);
  });

  it("redacts secret-looking query values", () => {
    expect(redactUrl(new URL("https://x.test/a?api-version=7.1&oauth_verifier=abc&access_token=t&key=JIRAUSER1"))).toBe(
      "https://x.test/a?api-version=7.1&oauth_verifier=***&access_token=***&key=JIRAUSER1",
    );
  });

  it("redacts a webhook token in the path, and leaves Jira's webhook paths alone", () => {
    expect(redactUrl(new URL("https://discord.com/api/webhooks/1214560000000000001/tok-EN_123/messages/99?wait=true"))).toBe(
      "https://discord.com/api/webhooks/1214560000000000001/***/messages/99?wait=true",
    );
    expect(redactUrl(new URL("https://jira.test/rest/webhooks/1.0/webhook/12"))).toBe("https://jira.test/rest/webhooks/1.0/webhook/12");
  });
});
