import type { JiraCredentials } from "../config/credentials.js";
import type { Deps } from "../deps.js";
import { UsageError } from "../errors.js";
import type { DiscordWebhook } from "../notify/discord.js";
import type { IntegrationRow } from "../store/integrations-repo.js";

/**
 * Where the secrets a push needs come from. A command may ask on a terminal or read stdin; serve
 * has neither and takes only what the environment and the credentials file hold.
 */
export interface TrackerCredentials {
  /** The Azure DevOps personal access token. */
  pat(): Promise<string>;
  jira(integration: IntegrationRow): Promise<JiraCredentials>;
  discord(webhookId: string): Promise<DiscordWebhook>;
  /** Every secret at hand without asking (environment, credentials file): kept out of what trackers answer. */
  known(): Promise<string[]>;
}

const PAT_ENV = "AZURE_DEVOPS_EXT_PAT";

/** The personal access token: AZURE_DEVOPS_EXT_PAT, --pat-stdin, or asked for on a terminal. Never a flag value. */
export async function readPat(deps: Pick<Deps, "io" | "prompter">, patStdin: boolean | undefined): Promise<string> {
  if (patStdin) {
    if (deps.io.stdinIsTTY) throw new UsageError("--pat-stdin reads the token from stdin, but stdin is a terminal", `pipe it in, or set ${PAT_ENV}`);
    const chunks: Buffer[] = [];
    for await (const c of deps.io.stdin) chunks.push(Buffer.from(c as Buffer));
    const pat = Buffer.concat(chunks).toString("utf8").trim();
    if (!pat) throw new UsageError("--pat-stdin: stdin was empty", "pipe the personal access token in");
    return pat;
  }
  const env = deps.io.env[PAT_ENV]?.trim();
  if (env) return env;
  return deps.prompter.password({ message: "Azure DevOps personal access token", supply: `${PAT_ENV} or --pat-stdin` });
}

/** Jira OAuth credentials for the integration, or a usage error that says how to get them. */
export async function jiraCredentials(env: Record<string, string | undefined>, integration: IntegrationRow): Promise<JiraCredentials> {
  const { CredentialStore } = await import("../config/credentials.js");
  const creds = (await CredentialStore.open(env)).jiraFor(integration);
  if (!creds) {
    const base = integration.baseUrl ? ` --base-url ${integration.baseUrl}` : "";
    throw new UsageError(
      `no Jira OAuth credentials for integration ${integration.externalId}`,
      `run 'hooksync oauth jira${base} --integration ${integration.externalId} --consumer-key <key> --private-key <pem>' first`,
    );
  }
  return creds;
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
  return [...stored, env[PAT_ENV], env[WEBHOOK_ENV]].filter((s): s is string => Boolean(s?.trim())).map((s) => s.trim());
}

/**
 * A command's credentials: the token read once (stdin or a prompt at most once per run), the
 * rest from the credentials file. Without patStdin and a terminal, only the environment.
 */
export function commandCredentials(deps: Pick<Deps, "io" | "prompter">, patStdin?: boolean): TrackerCredentials {
  let pat: Promise<string> | undefined;
  return {
    pat: () => (pat ??= readPat(deps, patStdin)),
    jira: (integration) => jiraCredentials(deps.io.env, integration),
    discord: (webhookId) => discordWebhook(deps.io.env, webhookId),
    known: () => knownSecrets(deps.io.env),
  };
}

/** serve's credentials: the environment and the credentials file only (no stdin, no terminal). */
export function environmentCredentials(env: Record<string, string | undefined>): TrackerCredentials {
  return {
    pat: async () => {
      const pat = env[PAT_ENV]?.trim();
      if (!pat) throw new UsageError(`no Azure DevOps token: serve reads it from ${PAT_ENV}`, `set ${PAT_ENV} for serve, or send with 'hooksync outbound send --pat-stdin'`);
      return pat;
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
  return integration.baseUrl.replace(/\/+$/, "");
}
