import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CredentialStore } from "../../src/config/credentials.js";
import { type AzureDevOpsFake, startAzureDevOps } from "../fakes/azure-devops.js";
import { run, tempDir } from "../helpers.js";
import { JIRA_ID, VSTS_ID, expectNoSecrets, jiraWorld, trackerStore } from "../world.js";

const URL_BASE = "https://hooksync.example.com";
const ENTRA = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra-token.sig";

describe("Azure DevOps Entra ID tokens (Bearer) besides PATs", () => {
  let az: AzureDevOpsFake;
  let dir: ReturnType<typeof tempDir>;
  let db: string;
  beforeAll(async () => {
    az = await startAzureDevOps();
  });
  afterAll(() => az.close());
  beforeEach(async () => {
    az.state.subscriptions.clear();
    az.state.bearerTokens = new Set([ENTRA]);
    az.reset();
    dir = tempDir();
    db = await trackerStore(dir.path, { vsts: az.url });
  });
  afterEach(() => dir.cleanup());

  const subscribe = (o: { env?: Record<string, string>; stdin?: string }, ...extra: string[]) =>
    run(["subscribe", "vsts", "--integration", VSTS_ID, "--url", URL_BASE, "--db", db, ...extra], { env: o.env ?? {}, ...(o.stdin ? { stdin: o.stdin } : {}) });
  const authorizations = () => az.requests.map((q) => q.headers.authorization);

  it("sends AZURE_DEVOPS_TOKEN as Authorization: Bearer, never printing it", async () => {
    const r = await subscribe({ env: { AZURE_DEVOPS_TOKEN: ENTRA } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(az.state.subscriptions.size).toBe(1);
    expect(new Set(authorizations())).toEqual(new Set([`Bearer ${ENTRA}`]));
    expectNoSecrets(r, [ENTRA]);
  });

  it("reads the token from stdin with --token-stdin", async () => {
    const r = await subscribe({ stdin: `${ENTRA}\n` }, "--token-stdin");
    expect(r.code).toBe(0);
    expect(new Set(authorizations())).toEqual(new Set([`Bearer ${ENTRA}`]));
  });

  it("--az-token runs 'az account get-access-token' for the Azure DevOps resource and uses its token", async () => {
    const bin = join(dir.path, "bin");
    mkdirSync(bin);
    // A fake az: records its arguments, prints what the real one prints.
    writeFileSync(join(bin, "az"), `#!/bin/sh\necho "$@" > "\${0%/*}/args"\necho '{"accessToken":"${ENTRA}","expiresOn":"2026-01-02 04:04:05.000000","tokenType":"Bearer"}'\n`);
    chmodSync(join(bin, "az"), 0o755);
    const r = await subscribe({ env: { PATH: bin } }, "--az-token");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(join(bin, "args"), "utf8").trim()).toBe("account get-access-token --resource 499b84ac-1321-427f-aa17-267ca6975798 --output json");
    expect(new Set(authorizations())).toEqual(new Set([`Bearer ${ENTRA}`]));
  });

  it("--az-token says what to do when az is missing or not signed in", async () => {
    const missing = await subscribe({ env: { PATH: join(dir.path, "nowhere") } }, "--az-token");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^hooksync: --az-token: the az CLI could not be run .*AZURE_DEVOPS_TOKEN or --token-stdin\)\n$/);
    const bin = join(dir.path, "bin2");
    mkdirSync(bin);
    writeFileSync(join(bin, "az"), "#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n");
    chmodSync(join(bin, "az"), 0o755);
    const signedOut = await subscribe({ env: { PATH: bin } }, "--az-token");
    expect(signedOut.code).toBe(4);
    expect(signedOut.stderr).toBe("hooksync: az account get-access-token failed: ERROR: Please run 'az login' to setup account. (run 'az login' (or 'az login --tenant <tenant>') first)\n");
  });

  it("answers a refused Entra ID token with a hint naming both forms and the scopes", async () => {
    const r = await subscribe({ env: { AZURE_DEVOPS_TOKEN: "expired-entra-token" } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("Service Hooks: read & write");
    expect(r.stderr).toContain("499b84ac-1321-427f-aa17-267ca6975798/.default");
    expect(r.stderr).toContain("AZURE_DEVOPS_EXT_PAT");
    expectNoSecrets(r, ["expired-entra-token"]);
  });

  it("refuses two credential flags at once", async () => {
    const r = await subscribe({ stdin: "x" }, "--token-stdin", "--pat-stdin");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hooksync: --pat-stdin and --token-stdin each supply the Azure DevOps credential (give one of them)\n");
  });
});

describe("Jira personal access tokens", () => {
  const w = jiraWorld();
  const subscribe = (env: Record<string, string> = {}) => run(["subscribe", "jira", "--url", URL_BASE, "--db", w.db], { env: { ...w.env, ...env } });
  const bearers = () => w.jira.requests.map((q) => q.headers.authorization);

  it("login jira --token-stdin checks the token, stores it 0600, and every later call sends it as Bearer", async () => {
    const pat = w.jira.personalToken("admin");
    const login = await run(["login", "jira", "--integration", JIRA_ID, "--token-stdin", "--db", w.db], { env: w.env, stdin: `${pat}\n` });
    expect(login.stderr).toBe("");
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(/^signed in to http:\/\/127\.0\.0\.1:\d+ as Alice Admin with a personal access token; saved to .*credentials\.json\n$/);
    expect((await CredentialStore.open(w.env)).jiraAuthFor({ externalId: JIRA_ID, baseUrl: w.jira.url })).toMatchObject({ kind: "pat", token: pat });
    expect(statSync(join(w.env.HOOKSYNC_CONFIG_DIR!, "credentials.json")).mode & 0o777).toBe(0o600);
    w.jira.reset();
    const r = await subscribe();
    expect(r.code).toBe(0);
    expect(w.jira.state.webhooks.size).toBe(1);
    expect(new Set(bearers())).toEqual(new Set([`Bearer ${pat}`]));
    expectNoSecrets(login, [pat]);
    expectNoSecrets(r, [pat]);
  });

  it("a token stored after OAuth credentials wins, and doctor names which one the integration uses", async () => {
    await w.storeCredentials("admin");
    const oauth = await run(["doctor", "--db", w.db, "--json"], { env: w.env });
    const jiraCheck = (out: string) => (JSON.parse(out).checks as { check: string; detail: string }[]).find((c) => c.check === `jira ${JIRA_ID}`)!.detail;
    expect(jiraCheck(oauth.stdout)).toMatch(/with OAuth 1\.0a credentials \(consumer key hooksync\), signed in as admin$/);
    const pat = w.jira.personalToken("admin");
    (await CredentialStore.open(w.env)).saveJiraToken({ baseUrl: w.jira.url, token: pat, integration: JIRA_ID, savedAt: new Date(Date.now() + 60_000).toISOString() });
    const stored = await run(["doctor", "--db", w.db, "--json"], { env: w.env });
    expect(jiraCheck(stored.stdout)).toMatch(/with a personal access token stored by 'hooksync login jira', signed in as admin$/);
    const env = await run(["doctor", "--db", w.db, "--json"], { env: { ...w.env, JIRA_API_TOKEN: pat } });
    expect(jiraCheck(env.stdout)).toMatch(/with a personal access token from JIRA_API_TOKEN, signed in as admin$/);
  });

  it("JIRA_API_TOKEN serves one run without anything stored", async () => {
    const pat = w.jira.personalToken("admin");
    const r = await subscribe({ JIRA_API_TOKEN: pat });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(new Set(bearers())).toEqual(new Set([`Bearer ${pat}`]));
    expect(existsSync(join(w.env.HOOKSYNC_CONFIG_DIR!, "credentials.json"))).toBe(false);
  });

  it("login refuses a token Jira refuses (exit 4) and stores nothing", async () => {
    const r = await run(["login", "jira", "--token-stdin", "--db", w.db], { env: w.env, stdin: "not-a-token\n" });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("Jira refused the personal access token");
    expect((await CredentialStore.open(w.env)).jiraAuthFor({ externalId: JIRA_ID, baseUrl: w.jira.url })).toBeUndefined();
    expectNoSecrets(r, ["not-a-token"]);
  });
});
