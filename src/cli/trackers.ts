import { createHash } from "node:crypto";

export const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

/** The JWT in a Jira 9 webhook URL lets anyone post deliveries: never printed (Jira 10's URL names the integration only). */
export const redactJwt = (url: string): string => url.replace(/(\/hooks\/jira\/)[\w-]+\.[\w-]+\.[\w-]*/, "$1<jwt>");

/** An action in the tense of --dry-run. */
export const tense = (action: "created" | "updated" | "kept" | "deleted", dryRun: boolean | undefined): string =>
  dryRun ? { created: "would create", updated: "would update", kept: "would keep", deleted: "would delete" }[action] : action;
