import { beforeEach, describe, expect, it } from "vitest";
import { verifyJwt } from "../../src/providers/jira/jwt.js";
import { parseOAuthHeader } from "../fakes/jira.js";
import { run } from "../helpers.js";
import { JIRA_ID, JIRA_SECRET, NOW, expectNoSecrets, jiraWorld } from "../world.js";

const URL_BASE = "https://hooksync.example.com";

const w = jiraWorld();
let token: string;
beforeEach(async () => {
  token = await w.storeCredentials("admin");
});

const subscribe = (...extra: string[]) => run(["subscribe", "jira", "--url", URL_BASE, "--db", w.db, ...extra], { env: w.env });

describe("subscribe jira", () => {
  it("registers one webhook whose URL carries a JWT of the integration, OAuth1-signed", async () => {
    const r = await subscribe("--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [hook] = [...w.jira.state.webhooks.values()];
    expect(hook).toMatchObject({ name: `hooksync ${JIRA_ID}`, events: ["jira:issue_created", "jira:issue_updated"], excludeBody: false });
    const jwt = hook!.url.replace(`${URL_BASE}/hooks/jira/`, "");
    expect(verifyJwt(jwt, JIRA_SECRET, NOW)).toMatchObject({ ok: true, claims: { id: JIRA_ID } });
    const post = w.jira.requests.find((q) => q.method === "POST")!;
    expect(post.url.pathname).toBe("/rest/webhooks/1.0/webhook");
    expect(parseOAuthHeader(post.headers.authorization)?.get("oauth_signature_method")).toBe("RSA-SHA1");
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({ id: hook!.id, action: "created", url: `${URL_BASE}/hooks/jira/<jwt>`, enabled: true }),
    ]);
    expectNoSecrets(r, [jwt, token, JIRA_SECRET]);
  });

  it("is idempotent, and updates the webhook when --url changes", async () => {
    await subscribe();
    const kept = await subscribe();
    expect(kept.stdout).toMatch(/^kept 1 {2}hooksync jira-1: jira:issue_created, jira:issue_updated -> https:\/\/hooksync\.example\.com\/hooks\/jira\/<jwt> \(verified by the JWT in its URL\)\n$/);
    const moved = await run(["subscribe", "jira", "--url", "https://elsewhere.example.com/", "--db", w.db, "--json"], { env: w.env });
    expect(JSON.parse(moved.stdout)[0]).toMatchObject({ id: "1", action: "updated" });
    expect(w.jira.state.webhooks.size).toBe(1);
    expect(w.jira.state.webhooks.get("1")!.url).toMatch(/^https:\/\/elsewhere\.example\.com\/hooks\/jira\/ey/);
  });

  it("uses /rest/jira-webhook/1.0/webhooks on Jira 10", async () => {
    w.jira.state.version = "10.3.1";
    const r = await subscribe();
    expect(r.code).toBe(0);
    expect(w.jira.requests.map((q) => `${q.method} ${q.url.pathname}`)).toEqual([
      "GET /rest/api/2/serverInfo",
      "GET /rest/jira-webhook/1.0/webhooks",
      "POST /rest/jira-webhook/1.0/webhooks",
    ]);
  });

  it("signs every attempt anew: a retried request carries a fresh nonce", async () => {
    w.jira.failNext({ status: 503 }, { match: (q) => q.method === "GET" && q.url.pathname.includes("webhook") });
    const r = await subscribe();
    expect(r.code).toBe(0);
    const nonces = w.jira.requests.filter((q) => q.url.pathname.includes("webhook") && q.method === "GET").map((q) => parseOAuthHeader(q.headers.authorization)!.get("oauth_nonce"));
    expect(nonces).toHaveLength(2);
    expect(new Set(nonces).size).toBe(2);
  });

  it("passes Jira's words through when the user is not an administrator (exit 4)", async () => {
    await w.storeCredentials("jdoe");
    const r = await subscribe();
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("You do not have permission to view WebHook");
    expect(r.stderr).toContain("Jira System Administrator");
  });

  it("maps a revoked token to exit 4 and the way out", async () => {
    w.jira.state.accessTokens.clear();
    const r = await subscribe();
    expect(r.code).toBe(4);
    expect(r.stderr).toBe("hooksync: Jira rejected the OAuth token (the access token no longer works: run 'hooksync oauth jira' again)\n");
  });

  it("without credentials exits 2 saying how to get them", async () => {
    const r = await run(["subscribe", "jira", "--url", URL_BASE, "--db", w.db], { env: { HOOKSYNC_CONFIG_DIR: `${w.dir}/empty` } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no Jira credentials for integration ${JIRA_ID}`);
    expect(r.stderr).toContain("hooksync oauth jira");
  });
});

describe("subscriptions and unsubscribe jira", () => {
  it("list hooksync's webhook, and delete it without touching the others", async () => {
    await subscribe();
    w.jira.state.webhooks.set("99", { id: "99", name: "CI", url: "https://ci.example.com/jira", events: ["jira:issue_updated"], filters: {}, excludeBody: false, enabled: true });
    const list = await run(["subscriptions", "jira", "--db", w.db, "--json"], { env: w.env });
    expect((JSON.parse(list.stdout) as { id: string }[]).map((w) => w.id)).toEqual(["1"]);
    const gone = await run(["unsubscribe", "jira", "--db", w.db, "--json"], { env: w.env });
    expect(gone.code).toBe(0);
    expect(JSON.parse(gone.stdout)).toEqual([{ id: "1", event: "jira:issue_created,jira:issue_updated", url: `${URL_BASE}/hooks/jira/<jwt>`, deleted: true }]);
    expect([...w.jira.state.webhooks.keys()]).toEqual(["99"]);
  });

  it("refuses to delete a webhook that is not hooksync's", async () => {
    w.jira.state.webhooks.set("99", { id: "99", name: "CI", url: "https://ci.example.com/jira", events: ["jira:issue_updated"], filters: {}, excludeBody: false, enabled: true });
    const r = await run(["unsubscribe", "jira", "--db", w.db, "--subscription", "99"], { env: w.env });
    expect(r.code).toBe(2);
    expect(w.jira.state.webhooks.has("99")).toBe(true);
  });
});
