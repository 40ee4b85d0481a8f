import { type JiraAuth, isJiraToken } from "../config/credentials.js";
import type { Deps } from "../deps.js";
import { UsageError } from "../errors.js";
import { readStdinSecret } from "../io/stdin.js";
import { withoutTrailingSlash } from "../url.js";
import type { DiscordWebhook } from "../notify/discord.js";
import { type VstsAuth, authorization } from "../providers/vsts/auth.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import { type Runner, azAccessToken } from "./az-token.js";

/**
 * Where the secrets a push needs come from. A command may ask on a terminal or read stdin; serve
 * has neither and takes only what the environment and the credentials file hold.
 */
export interface TrackerCredentials {
  vsts(): Promise<VstsAuth>;
  jira(integration: IntegrationRow): Promise<JiraAuth>;
  discord(webhookId: string): Promise<DiscordWebhook>;
  /** Every secret at hand without asking (environment, credentials file): kept out of what trackers answer. */
  known(): Promise<string[]>;
}

export const PAT_ENV = "AZURE_DEVOPS_EXT_PAT";
export const VSTS_TOKEN_ENV = "AZURE_DEVOPS_TOKEN";
export const JIRA_TOKEN_ENV = "JIRA_API_TOKEN";

/** How a command may be given the Azure DevOps credential: never as a flag value that `ps` shows. */
export interface VstsTokenFlags {
  patStdin?: boolean;
  tokenStdin?: boolean;
  azToken?: boolean;
}


/**
 * The Azure DevOps credential: --pat-stdin, --token-stdin or --az-token when given (one of them),
 * else AZURE_DEVOPS_TOKEN, else AZURE_DEVOPS_EXT_PAT, else a PAT asked for on a terminal.
 */
export async function readVstsAuth(deps: Pick<Deps, "io" | "prompter">, flags: VstsTokenFlags = {}, run?: Runner): Promise<VstsAuth> {
  const given = [flags.patStdin && "--pat-stdin", flags.tokenStdin && "--token-stdin", flags.azToken && "--az-token"].filter(Boolean);
  if (given.length > 1) throw new UsageError(`${given.join(" and ")} each supply the Azure DevOps credential`, "give one of them");
  const env = deps.io.env;
  if (flags.patStdin) return { kind: "pat", token: await readStdinSecret(deps.io, { flag: "--pat-stdin", short: "token", long: "personal access token", envName: PAT_ENV }), source: "--pat-stdin" };
  if (flags.tokenStdin) return { kind: "bearer", token: await readStdinSecret(deps.io, { flag: "--token-stdin", short: "token", long: "Entra ID access token", envName: VSTS_TOKEN_ENV }), source: "--token-stdin" };
  if (flags.azToken) return { kind: "bearer", token: await azAccessToken(env, run), source: "az account get-access-token" };
  const fromEnv = environmentVsts(env);
  if (fromEnv) return fromEnv;
  // The terminal asks for a PAT only, so that is what the "supply it with" hint names.
  const pat = await deps.prompter.password({ message: "Azure DevOps personal access token", supply: `${PAT_ENV} or --pat-stdin` });
  return { kind: "pat", token: pat, source: "the prompt" };
}

function environmentVsts(env: Record<string, string | undefined>): VstsAuth | undefined {
  const bearer = env[VSTS_TOKEN_ENV]?.trim();
  if (bearer) return { kind: "bearer", token: bearer, source: VSTS_TOKEN_ENV };
  const pat = env[PAT_ENV]?.trim();
  return pat ? { kind: "pat", token: pat, source: PAT_ENV } : undefined;
}

/** The forms a secret of this credential can take in text a tracker sends back. */
export const vstsSecrets = (auth: VstsAuth): string[] => [auth.token, authorization(auth).replace(/^(Basic|Bearer) /, "")];
export const jiraSecrets = (auth: JiraAuth): string[] => (isJiraToken(auth) ? [auth.token] : [auth.accessToken, auth.accessTokenSecret]);

export const describeVsts = (auth: VstsAuth): string => `${auth.kind === "pat" ? "a personal access token" : "an Entra ID access token"} from ${auth.source}`;

/** What an integration signs in to Jira with, and where that came from. */
export interface JiraSignIn {
  auth: JiraAuth;
  source: string;
}

/** JIRA_API_TOKEN for this run, else what the credentials file holds for the integration; undefined when neither. */
export async function jiraSignInIfAny(env: Record<string, string | undefined>, integration: IntegrationRow): Promise<JiraSignIn | undefined> {
  const token = env[JIRA_TOKEN_ENV]?.trim();
  if (token) {
    const auth: JiraAuth = { kind: "pat", baseUrl: trackerBaseUrl(integration), token, integration: integration.externalId, savedAt: "" };
    return { auth, source: `a personal access token from ${JIRA_TOKEN_ENV}` };
  }
  const { CredentialStore } = await import("../config/credentials.js");
  const auth = (await CredentialStore.openExisting(env))?.jiraAuthFor(integration);
  if (!auth) return undefined;
  return {
    auth,
    source: isJiraToken(auth) ? "a personal access token stored by 'hooksync login jira'" : `OAuth 1.0a credentials (consumer key ${auth.consumerKey})`,
  };
}

/** jiraSignInIfAny, or a usage error that says how to get either. */
export async function jiraSignIn(env: Record<string, string | undefined>, integration: IntegrationRow): Promise<JiraSignIn> {
  const found = await jiraSignInIfAny(env, integration);
  if (found) return found;
  const base = integration.baseUrl ? ` --base-url ${integration.baseUrl}` : "";
  throw new UsageError(
    `no Jira credentials for integration ${integration.externalId}`,
    `store a personal access token with 'hooksync login jira --integration ${integration.externalId} --token-stdin' (or set ${JIRA_TOKEN_ENV}), or sign in with 'hooksync oauth jira${base} --integration ${integration.externalId} --consumer-key <key> --private-key <pem>'`,
  );
}

export async function jiraCredentials(env: Record<string, string | undefined>, integration: IntegrationRow): Promise<JiraAuth> {
  return (await jiraSignIn(env, integration)).auth;
}

/** The Discord webhook the store's channel names, from the credentials or HOOKSYNC_DISCORD_WEBHOOK_URL. */
export async function discordWebhook(env: Record<string, string | undefined>, webhookId: string): Promise<DiscordWebhook> {
  const { channelWebhook, WEBHOOK_ENV } = await import("../notify/discord.js");
  const found = await channelWebhook(env, webhookId);
  if (!found) throw new UsageError(`no URL for Discord webhook ${webhookId} in the credentials or ${WEBHOOK_ENV}`, "run 'hooksync notify discord' again");
  return found.webhook;
}

async function knownSecrets(env: Record<string, string | undefined>): Promise<string[]> {
  const { CredentialStore } = await import("../config/credentials.js");
  const { WEBHOOK_ENV } = await import("../notify/discord.js");
  const stored = (await CredentialStore.openExisting(env))?.secrets() ?? [];
  return [...stored, env[PAT_ENV], env[VSTS_TOKEN_ENV], env[JIRA_TOKEN_ENV], env[WEBHOOK_ENV]].filter((s): s is string => Boolean(s?.trim())).map((s) => s.trim());
}

/**
 * A command's credentials: the token read once (stdin or a prompt at most once per run), the
 * rest from the credentials file. Without a --*-stdin flag and a terminal, only the environment.
 */
export function commandCredentials(deps: Pick<Deps, "io" | "prompter">, patStdin?: boolean, more: Omit<VstsTokenFlags, "patStdin"> = {}): TrackerCredentials {
  let vsts: Promise<VstsAuth> | undefined;
  return {
    vsts: () => (vsts ??= readVstsAuth(deps, { patStdin, ...more })),
    jira: (integration) => jiraCredentials(deps.io.env, integration),
    discord: (webhookId) => discordWebhook(deps.io.env, webhookId),
    known: () => knownSecrets(deps.io.env),
  };
}

/** serve's credentials: the environment and the credentials file only (no stdin, no terminal). */
export function environmentCredentials(env: Record<string, string | undefined>): TrackerCredentials {
  return {
    vsts: async () => {
      const auth = environmentVsts(env);
      if (!auth) {
        throw new UsageError(
          `no Azure DevOps token: serve reads it from ${PAT_ENV} (a personal access token) or ${VSTS_TOKEN_ENV} (an Entra ID access token)`,
          `set one for serve, or send with 'hooksync outbound send --pat-stdin'`,
        );
      }
      return auth;
    },
    jira: (integration) => jiraCredentials(env, integration),
    discord: (webhookId) => discordWebhook(env, webhookId),
    known: () => knownSecrets(env),
  };
}

export function trackerBaseUrl(integration: IntegrationRow): string {
  if (!integration.baseUrl) {
    throw new UsageError(`integration ${integration.externalId} has no baseUrl`, "set it in the import file (\"baseUrl\") and run 'hooksync import' again");
  }
  return withoutTrailingSlash(integration.baseUrl);
}
