import { join } from "node:path";
import { MockAgent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CredentialStore } from "../../src/config/credentials.js";
import type { SearchMode } from "../fakes/azure-devops-workitems.js";
import { TEST_KEY_PEM, parseOAuthHeader } from "../fakes/jira.js";
import { run, tempDir } from "../helpers.js";
import { JIRA_ID, NOW, PAT, VSTS_BASE_URL, VSTS_ID, expectNoSecrets, issueFakes, jiraWorld, trackerStore } from "../world.js";

const env = { AZURE_DEVOPS_EXT_PAT: PAT };

const w = jiraWorld();
const f = issueFakes(w, PAT);
let vdir: ReturnType<typeof tempDir>;
let vdb: string;

beforeEach(async () => {
  f.az.reset();
  f.items.search = "installed";
  f.items.items.clear();
  f.items.put(
    { id: 7, title: "TypeError in checkout", state: "Active", assignedTo: "Jane Doe <jane.doe@example.com>", changedDate: "2026-01-01T10:00:00Z" },
    { id: 8, title: "Checkout crash on user's cart", state: "New", assignedTo: null, changedDate: "2026-01-01T12:00:00Z" },
    { id: 9, title: "Slow login", state: "Closed", assignedTo: "Bob <bob@example.com>", changedDate: "2026-01-01T11:00:00Z" },
  );
  f.issues.issues.clear();
  f.issues.put(
    { key: "PRJA-37", summary: "TypeError in checkout", status: "3", assignee: "jdoe", updated: "2026-01-01T10:00:00.000+0000" },
    { key: "PRJA-38", summary: "Checkout (crash) on C:\\temp", description: "null pointer in cart", status: "10000", assignee: "hidden", updated: "2026-01-01T12:00:00.000+0000" },
    { key: "PRJA-39", summary: "Slow login", status: "10001", assignee: null, updated: "2026-01-01T11:00:00.000+0000" },
  );
  vdir = tempDir();
  vdb = await trackerStore(vdir.path, { vsts: f.az.url });
});
afterEach(() => vdir.cleanup());

const searchVsts = (...args: string[]) => run(["search", "vsts", "--integration", VSTS_ID, "--db", vdb, ...args], { env });
const searchJira = (...args: string[]) => run(["search", "jira", "--integration", JIRA_ID, "--db", w.db, ...args], { env: w.env });
const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, unknown>[];

describe("search vsts", () => {
  it("fetches a number directly (GET workitems/{id}, api-version 7.1, the PAT), leading zeros dropped", async () => {
    const r = await searchVsts("007", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(json(r)).toEqual([{ key: "7", title: "TypeError in checkout", status: "Active", assignee: "jane.doe@example.com", url: `${f.az.url}/_workitems/edit/7` }]);
    expect(f.az.requests.map((q) => `${q.method} ${q.url.pathname}`)).toEqual(["GET /fabrikam/_apis/wit/workitems/7"]);
    expect(f.az.requests[0]!.url.searchParams.get("api-version")).toBe("7.1");
    expect(f.az.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`:${PAT}`).toString("base64")}`);
    expectNoSecrets(r, [PAT]);
  });

  it("sends other text to work item search: {searchText, $top: 25} at the preview api-version", async () => {
    const r = await searchVsts("checkout", "--json");
    expect(r.code).toBe(0);
    expect(json(r)).toEqual([
      { key: "8", title: "Checkout crash on user's cart", status: "New", assignee: null, url: `${f.az.url}/_workitems/edit/8` },
      { key: "7", title: "TypeError in checkout", status: "Active", assignee: "jane.doe@example.com", url: `${f.az.url}/_workitems/edit/7` },
    ]);
    const [post] = f.az.requests;
    expect(`${post!.method} ${post!.url.pathname}`).toBe("POST /fabrikam/_apis/search/workitemsearchresults");
    expect(post!.url.searchParams.get("api-version")).toBe("7.1-preview.1");
    expect(post!.json()).toMatchObject({ searchText: "checkout", $top: 25 });
    expect(f.az.requests).toHaveLength(1);
  });

  it("joins the words and prints a table: key, title, status, assignee, URL", async () => {
    const r = await searchVsts("checkout", "crash");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      ["KEY  TITLE                          STATUS  ASSIGNEE  URL", `8    Checkout crash on user's cart  New     -         ${f.az.url}/_workitems/edit/8`, ""].join("\n"),
    );
  });

  it("answers no results with [] (--json) or a note on stderr and nothing on stdout", async () => {
    expect(json(await searchVsts("nothing-like-this", "--json"))).toEqual([]);
    const r = await searchVsts("42");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("no work items match\n");
  });

  it.each<[SearchMode, string]>([
    ["missing", "work item search is not installed on this server: matching titles only"],
    ["not installed", "work item search is not installed on this server: matching titles only"],
    ["indexing", "work item search is still indexing (infoCode 2): matching titles only"],
  ])("falls back to a WIQL title query when search is %s", async (mode, note) => {
    f.items.search = mode;
    const r = await searchVsts("user's", "--json");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`note: ${note}\n`);
    expect(json(r)).toEqual([{ key: "8", title: "Checkout crash on user's cart", status: "New", assignee: null, url: `${f.az.url}/_workitems/edit/8` }]);
    const [, wiql, batch] = f.az.requests;
    expect(wiql!.json()).toEqual({
      query: "SELECT [System.Id] FROM WorkItems WHERE [System.Title] CONTAINS 'user''s' ORDER BY [System.ChangedDate] DESC",
    });
    expect(wiql!.url.searchParams.get("$top")).toBe("25");
    expect(batch!.url.searchParams.get("ids")).toBe("8");
    expect(batch!.url.searchParams.get("errorPolicy")).toBe("omit");
  });

  it("keeps WIQL's order (latest change first) and leaves out a work item deleted in between", async () => {
    f.items.search = "missing";
    f.az.failNext({ status: 200, body: { count: 2, value: [null, { id: 7, fields: { "System.Title": "TypeError in checkout" } }] } }, { match: (q) => q.url.pathname.endsWith("/workitems") });
    const r = await searchVsts("checkout", "--json");
    expect(r.code).toBe(0);
    expect(json(r).map((i) => i.key)).toEqual(["7"]);
    expect(f.az.requests.at(-1)!.url.searchParams.get("ids")).toBe("8,7");
  });

  it("retries a search the server failed (503), the POST being safe to repeat", async () => {
    f.az.failNext({ status: 503 }, { match: (q) => q.method === "POST" });
    const r = await searchVsts("login", "--json");
    expect(r.code).toBe(0);
    expect(json(r).map((i) => i.key)).toEqual(["9"]);
    expect(f.az.requests.filter((q) => q.method === "POST")).toHaveLength(2);
  });

  it("maps a refused token (401) to exit 4, naming the scope search needs", async () => {
    const r = await run(["search", "vsts", "checkout", "--db", vdb], { env: { AZURE_DEVOPS_EXT_PAT: "wrong-token-xyz" } });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(
      "hooksync: the token was refused (HTTP 401 on search work items) (a personal access token (AZURE_DEVOPS_EXT_PAT, --pat-stdin) needs the scopes Work Items: read, this organization, and not to have expired; an Entra ID token (AZURE_DEVOPS_TOKEN, --token-stdin, --az-token) needs the scope 499b84ac-1321-427f-aa17-267ca6975798/.default, a user of this organization, and lasts about an hour)\n",
    );
    expectNoSecrets(r, ["wrong-token-xyz"]);
  });

  it("tells a 404 for the organization apart from a work item that does not exist (exit 1)", async () => {
    const other = await trackerStore(vdir.path, { vsts: `${f.az.origin}/nosuchorg` });
    const r = await run(["search", "vsts", "7", "--db", other], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "hooksync: no such organization or project (HTTP 404 on read work item 7) (check the integration's baseUrl (https://dev.azure.com/<organization>) and --project)\n",
    );
  });

  it("asks Azure DevOps Services' search host, almsearch.dev.azure.com, for text", async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get("https://almsearch.dev.azure.com")
      .intercept({ method: "POST", path: (p) => p.startsWith("/fabrikam-fiber-inc/_apis/search/workitemsearchresults?") })
      .reply(200, { count: 1, results: [{ fields: { "system.id": "5", "system.title": "Cloud", "system.state": "Active", "system.assignedto": "Jane Doe <jane.doe@example.com>" } }], infoCode: 0 }, { headers: { "content-type": "application/json" } });
    const r = await run(["search", "vsts", "cloud", "--db", w.db, "--json"], { env, http: async () => agent });
    expect(r.stderr).toBe("");
    expect(json(r)).toEqual([{ key: "5", title: "Cloud", status: "Active", assignee: "jane.doe@example.com", url: `${VSTS_BASE_URL}/_workitems/edit/5` }]);
    agent.assertNoPendingInterceptors();
  });

  it.each([[[""]], [["  ", " "]]])("refuses an empty query %j with exit 2", async (words) => {
    const r = await searchVsts(...words);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hooksync: nothing to search for (give a work item id, an issue key or some words)\n");
    expect(f.az.requests).toHaveLength(0);
  });

  it("refuses a search without a query with exit 2", async () => {
    const r = await searchVsts();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required argument 'text'");
  });
});

describe("search jira", () => {
  beforeEach(async () => {
    await w.storeCredentials("admin");
  });

  it("fetches an issue key directly, upper-cased and OAuth1-signed", async () => {
    const r = await searchJira("prja-37", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(json(r)).toEqual([{ key: "PRJA-37", title: "TypeError in checkout", status: "In Progress", assignee: "jane.doe@example.com", url: `${w.jira.url}/browse/PRJA-37` }]);
    const [get] = w.jira.requests;
    expect(`${get!.method} ${get!.url.pathname}`).toBe("GET /rest/api/2/issue/PRJA-37");
    expect(parseOAuthHeader(get!.headers.authorization)?.get("oauth_signature_method")).toBe("RSA-SHA1");
  });

  it("searches other text as JQL text ~, reserved characters escaped the way Jira documents", async () => {
    const r = await searchJira("checkout", "(crash)", "C:\\temp", "--json");
    expect(r.code).toBe(0);
    expect(json(r)).toEqual([{ key: "PRJA-38", title: "Checkout (crash) on C:\\temp", status: "To Do", assignee: "Hidden Email", url: `${w.jira.url}/browse/PRJA-38` }]);
    const [get] = w.jira.requests;
    expect(get!.url.pathname).toBe("/rest/api/2/search");
    expect(get!.url.searchParams.get("jql")).toBe(String.raw`text ~ "checkout \\(crash\\) C\\:\\\\temp" ORDER BY updated DESC`);
    expect(get!.url.searchParams.get("maxResults")).toBe("25");
  });

  it("keeps quoted words together as a phrase, latest update first otherwise", async () => {
    expect(json(await searchJira('"null pointer"', "--json")).map((i) => i.key)).toEqual(["PRJA-38"]);
    expect(json(await searchJira('"pointer null"', "--json"))).toEqual([]);
    expect(json(await searchJira("checkout", "--json")).map((i) => i.key)).toEqual(["PRJA-38", "PRJA-37"]);
  });

  it("answers no results, and a key Jira does not have, with exit 0 and nothing on stdout", async () => {
    for (const q of ["nothing-like-this", "PRJA-404"]) {
      const r = await searchJira(q);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe("no issues match\n");
    }
  });

  it("maps a revoked access token (401) to exit 4", async () => {
    w.jira.state.accessTokens.clear();
    const r = await searchJira("checkout");
    expect(r.code).toBe(4);
    expect(r.stderr).toBe("hooksync: Jira rejected the OAuth token (the access token no longer works: run 'hooksync oauth jira' again)\n");
  });

  it("tells a wrong base URL (404 without an issue message) apart from a missing issue (exit 1)", async () => {
    const elsewhere = { HOOKSYNC_CONFIG_DIR: join(w.dir, "config-jira-path") };
    (await CredentialStore.open(elsewhere)).saveJira({
      baseUrl: `${w.jira.url}/jira`,
      consumerKey: "hooksync",
      privateKey: TEST_KEY_PEM,
      accessToken: w.jira.grant("hooksync"),
      accessTokenSecret: "ignored-by-rsa-sha1",
      integration: JIRA_ID,
      savedAt: new Date(NOW).toISOString(),
    });
    const r = await run(["search", "jira", "PRJA-37", "--db", w.db], { env: elsewhere });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("hooksync: Jira has no such resource (HTTP 404 on read issue PRJA-37) (check the Jira base URL, including any context path such as /jira)\n");
  });

  it("refuses an empty query with exit 2 before asking Jira", async () => {
    const r = await searchJira(" ");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hooksync: nothing to search for (give a work item id, an issue key or some words)\n");
    expect(w.jira.requests).toHaveLength(0);
  });
});
