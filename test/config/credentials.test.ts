import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CredentialStore, type JiraCredentials, configDir, normalizeBaseUrl } from "../../src/config/credentials.js";
import { tempDir } from "../helpers.js";

let dir: ReturnType<typeof tempDir>;
let env: Record<string, string>;
beforeEach(() => {
  dir = tempDir();
  env = { HOOKSYNC_CONFIG_DIR: join(dir.path, "conf") };
});
afterEach(() => dir.cleanup());

const creds = (o: Partial<JiraCredentials> = {}): JiraCredentials => ({
  baseUrl: "https://Jira.Example.com/jira/",
  consumerKey: "hooksync",
  privateKey: "PEM",
  accessToken: "tok",
  accessTokenSecret: "sec",
  savedAt: "2026-01-02T03:04:05.000Z",
  ...o,
});

describe("CredentialStore", () => {
  it("keeps the file 0600 in a 0700 directory under HOOKSYNC_CONFIG_DIR", async () => {
    const store = await CredentialStore.open(env);
    store.saveJira(creds());
    expect(store.path).toBe(join(dir.path, "conf", "credentials.json"));
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir.path, "conf")).mode & 0o777).toBe(0o700);
  });

  it("brings a file left world-readable back to 0600 on the next save", async () => {
    mkdirSync(join(dir.path, "conf"));
    writeFileSync(join(dir.path, "conf", "credentials.json"), '{"jira":{}}');
    chmodSync(join(dir.path, "conf", "credentials.json"), 0o644);
    (await CredentialStore.open(env)).saveJira(creds());
    expect(statSync(join(dir.path, "conf", "credentials.json")).mode & 0o777).toBe(0o600);
  });

  it("keys Jira credentials by the normalised base URL, dots and all", async () => {
    const store = await CredentialStore.open(env);
    store.saveJira(creds());
    expect(store.jira("https://jira.example.com/jira")).toMatchObject({ accessToken: "tok", baseUrl: "https://jira.example.com/jira" });
    expect(Object.keys(JSON.parse(readFileSync(store.path, "utf8")).jira)).toEqual(["https://jira.example.com/jira"]);
    expect((await CredentialStore.open(env)).jira("https://jira.example.com/jira/")?.consumerKey).toBe("hooksync");
  });

  it("finds an integration's credentials by its tie first, then by its base URL", async () => {
    const store = await CredentialStore.open(env);
    store.saveJira(creds({ baseUrl: "https://a.example.com", integration: "jira-a", accessToken: "a" }));
    store.saveJira(creds({ baseUrl: "https://b.example.com", accessToken: "b" }));
    expect(store.jiraFor({ externalId: "jira-a", baseUrl: "https://elsewhere.example.com" })?.accessToken).toBe("a");
    expect(store.jiraFor({ externalId: "jira-b", baseUrl: "https://b.example.com/" })?.accessToken).toBe("b");
    expect(store.jiraFor({ externalId: "jira-c", baseUrl: null })).toBeUndefined();
  });

  it("keeps the integration tie when signing in again without one", async () => {
    const store = await CredentialStore.open(env);
    store.saveJira(creds({ integration: "jira-a" }));
    store.saveJira(creds({ accessToken: "newer" }));
    expect(store.jira("https://jira.example.com/jira")).toMatchObject({ accessToken: "newer", integration: "jira-a" });
  });

  it("openExisting does not create a file", async () => {
    expect(await CredentialStore.openExisting(env)).toBeUndefined();
    expect(existsSync(join(dir.path, "conf"))).toBe(false);
  });

  it("uses the user's config dir without HOOKSYNC_CONFIG_DIR", () => {
    expect(configDir({})).toMatch(/hooksync$/);
    expect(normalizeBaseUrl("HTTP://JIRA.test:80/")).toBe("http://jira.test");
  });
});
