import envPaths from "env-paths";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type Conf from "conf";
import { StoreError } from "../errors.js";
import { withoutTrailingSlash } from "../url.js";

/** What `hooksync oauth jira` leaves behind for one Jira, all of it needed to sign a request. */
export interface JiraCredentials {
  baseUrl: string;
  consumerKey: string;
  /** The PEM text, kept here (0600) so serve keeps working when the original file moves. */
  privateKey: string;
  accessToken: string;
  /** Irrelevant to RSA-SHA1 signing, kept because Jira issued it with the token. */
  accessTokenSecret: string;
  /** The externalId of the Jira integration these credentials serve, when tied to one. */
  integration?: string;
  user?: { name?: string; key?: string; displayName?: string };
  savedAt: string;
  expiresAt?: string;
}

/** A Jira personal access token of 'hooksync login jira' (Jira Data Center 8.14+), sent as `Authorization: Bearer`. */
export interface JiraTokenCredentials {
  kind: "pat";
  baseUrl: string;
  token: string;
  /** The externalId of the Jira integration it serves: a token belongs to one user of one Jira. */
  integration: string;
  savedAt: string;
}

/** Whichever way an integration signs in to Jira: OAuth 1.0a (an application link) or a personal access token. */
export type JiraAuth = JiraCredentials | JiraTokenCredentials;

export const isJiraToken = (c: JiraAuth): c is JiraTokenCredentials => "kind" in c && c.kind === "pat";

/** A Discord webhook of 'hooksync notify discord': its URL carries the token that lets anyone post. */
export interface DiscordCredentials {
  url: string;
  savedAt: string;
}

interface Schema {
  jira: Record<string, JiraCredentials>;
  /** By integration externalId. */
  jiraTokens: Record<string, JiraTokenCredentials>;
  /** By webhook id, which the store keeps to name its channel. */
  discord: Record<string, DiscordCredentials>;
}

export const configDir = (env: Record<string, string | undefined>): string =>
  env.HOOKSYNC_CONFIG_DIR || envPaths("hooksync", { suffix: "" }).config;

/** A Jira base URL as the key it is stored under: no trailing slash, lower-case scheme and host. */
export function normalizeBaseUrl(raw: string): string {
  const u = new URL(raw);
  return withoutTrailingSlash(`${u.protocol}//${u.host}${u.pathname}`);
}

/** The credentials file (conf), mode 0600 in a 0700 directory; conf loads only when a command needs it. */
export class CredentialStore {
  private constructor(private readonly conf: Conf<Schema>) {}

  static async open(env: Record<string, string | undefined>): Promise<CredentialStore> {
    const dir = configDir(env);
    const { default: ConfClass } = await import("conf");
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const conf = new ConfClass<Schema>({
        cwd: dir,
        configName: "credentials",
        configFileMode: 0o600,
        accessPropertiesByDotNotation: false,
        defaults: { jira: {}, jiraTokens: {}, discord: {} },
      });
      return new CredentialStore(conf);
    } catch (err) {
      throw new StoreError(`cannot open the credentials in ${dir}: ${(err as Error).message}`, "check HOOKSYNC_CONFIG_DIR, or remove a damaged credentials.json");
    }
  }

  /** Only when the file exists: a replay or serve must not create an empty credentials file. */
  static async openExisting(env: Record<string, string | undefined>): Promise<CredentialStore | undefined> {
    return existsSync(join(configDir(env), "credentials.json")) ? CredentialStore.open(env) : undefined;
  }

  get path(): string {
    return this.conf.path;
  }

  jira(baseUrl: string): JiraCredentials | undefined {
    return this.conf.get("jira")[normalizeBaseUrl(baseUrl)];
  }

  /** OAuth credentials tied to the integration, else those of its base URL. */
  jiraFor(integration: { externalId: string; baseUrl: string | null }): JiraCredentials | undefined {
    const all = Object.values(this.conf.get("jira"));
    return all.find((c) => c.integration === integration.externalId) ?? (integration.baseUrl ? this.jira(integration.baseUrl) : undefined);
  }

  /** How the integration signs in: its OAuth credentials or its personal access token; with both, the one stored last. */
  jiraAuthFor(integration: { externalId: string; baseUrl: string | null }): JiraAuth | undefined {
    const oauth = this.jiraFor(integration);
    const token = this.conf.get("jiraTokens")[integration.externalId];
    if (!oauth || !token) return token ?? oauth;
    return token.savedAt >= oauth.savedAt ? token : oauth;
  }

  saveJiraToken(c: Omit<JiraTokenCredentials, "kind">): void {
    this.conf.set("jiraTokens", { ...this.conf.get("jiraTokens"), [c.integration]: { kind: "pat", ...c, baseUrl: normalizeBaseUrl(c.baseUrl) } });
    this.keepPrivate();
  }

  /** Signing in again without --integration keeps the tie an earlier sign-in made. */
  saveJira(c: JiraCredentials): void {
    const key = normalizeBaseUrl(c.baseUrl);
    const all = this.conf.get("jira");
    const tie = c.integration ?? all[key]?.integration;
    this.conf.set("jira", { ...all, [key]: { ...c, baseUrl: key, ...(tie ? { integration: tie } : {}) } });
    this.keepPrivate();
  }

  discord(webhookId: string): DiscordCredentials | undefined {
    return this.conf.get("discord")[webhookId];
  }

  saveDiscord(webhookId: string, c: DiscordCredentials): void {
    this.conf.set("discord", { ...this.conf.get("discord"), [webhookId]: c });
    this.keepPrivate();
  }

  forgetDiscord(webhookId: string): void {
    const { [webhookId]: _gone, ...rest } = this.conf.get("discord");
    this.conf.set("discord", rest);
  }

  /** Every token and webhook URL kept here, so text from a tracker can be cleaned of them. */
  secrets(): string[] {
    const jira = Object.values(this.conf.get("jira")).flatMap((c) => [c.accessToken, c.accessTokenSecret]);
    const tokens = Object.values(this.conf.get("jiraTokens")).map((c) => c.token);
    // A Discord webhook URL ends in its token, which may be quoted alone.
    const discord = Object.values(this.conf.get("discord")).flatMap((d) => [d.url, d.url.slice(d.url.lastIndexOf("/") + 1)]);
    return [...jira, ...tokens, ...discord];
  }

  /** A file created before this version, or by hand, keeps its mode through a plain write. */
  private keepPrivate(): void {
    chmodSync(this.conf.path, 0o600);
  }
}
