import { createHash } from "node:crypto";
import { type Command, Option } from "commander";

// The sessions live in src/trackers/sessions.ts; the commands that still import them from here
// (subscribe, subscriptions, unsubscribe, oauth, doctor) move to it in a later change.
export {
  type HttpFlags,
  type TrackerSession,
  type VstsFlags,
  integrationFor,
  jiraWebhookName,
  publicUrl,
  withHttp,
  withJira,
  withVsts,
} from "../trackers/sessions.js";

/** Why a user of each kind of command would need --ca-file: a server of their own, or a proxy re-signing TLS. */
const CA_FOR: Record<string, string> = {
  vsts: "an Azure DevOps Server with a self-signed or private CA",
  jira: "a Jira Server with a self-signed or private CA",
  discord: "a proxy that re-signs TLS on the way to Discord",
  tracker: "a Jira or Azure DevOps Server with a self-signed or private CA",
  push: "a tracker with a self-signed or private CA, or a proxy that re-signs TLS to Discord",
};

/**
 * The HTTP flags every command that talks to a server declares. `reaches` words --ca-file for it:
 * by default the command's name when that names the server (vsts, jira, discord), else any tracker.
 */
export function addHttpOptions(cmd: Command, reaches: keyof typeof CA_FOR = cmd.name() in CA_FOR ? cmd.name() : "tracker"): Command {
  return cmd
    .option("--ca-file <pem>", `trust these CA certificates too (${CA_FOR[reaches]}); NODE_EXTRA_CA_CERTS also works`)
    .addOption(new Option("--insecure", "do not check the server's TLS certificate (never on a network you do not trust)"))
    .option("--timeout <seconds>", "give up on a request after this long", "30");
}

/** The ways to give an Azure DevOps credential; without one, AZURE_DEVOPS_TOKEN, then AZURE_DEVOPS_EXT_PAT. */
export function addVstsTokenOptions(cmd: Command): Command {
  return cmd
    .option("--pat-stdin", "read a personal access token from stdin (else AZURE_DEVOPS_EXT_PAT)")
    .option("--token-stdin", "read a Microsoft Entra ID access token from stdin (else AZURE_DEVOPS_TOKEN)")
    .option("--az-token", "get an Entra ID access token from the signed-in az CLI (az account get-access-token)");
}

export const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

/** The JWT in a Jira 9 webhook URL lets anyone post deliveries: never printed (Jira 10's URL names the integration only). */
export const redactJwt = (url: string): string => url.replace(/(\/hooks\/jira\/)[\w-]+\.[\w-]+\.[\w-]*/, "$1<jwt>");

/** An action in the tense of --dry-run. */
export const tense = (action: "created" | "updated" | "kept" | "deleted", dryRun: boolean | undefined): string =>
  dryRun ? { created: "would create", updated: "would update", kept: "would keep", deleted: "would delete" }[action] : action;
