import { createHash } from "node:crypto";
import { type Command, Option } from "commander";

// The sessions live in src/trackers/sessions.ts; the commands that still import them from here
// (subscribe, subscriptions, unsubscribe, oauth, doctor) are being changed on other branches.
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

/** The HTTP flags every command that talks to a tracker declares. */
export function addHttpOptions(cmd: Command): Command {
  return cmd
    .option("--ca-file <pem>", "trust these CA certificates too (a self-signed Jira Server); NODE_EXTRA_CA_CERTS also works")
    .addOption(new Option("--insecure", "do not check the server's TLS certificate (never on a network you do not trust)"))
    .option("--timeout <seconds>", "give up on a request after this long", "30");
}

export const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

/** The JWT in a Jira webhook URL lets anyone post deliveries: never printed. */
export const redactJwt = (url: string): string => url.replace(/(\/hooks\/jira\/)[^/?#]+/, "$1<jwt>");

/** An action in the tense of --dry-run. */
export const tense = (action: "created" | "updated" | "kept" | "deleted", dryRun: boolean | undefined): string =>
  dryRun ? { created: "would create", updated: "would update", kept: "would keep", deleted: "would delete" }[action] : action;
