import { issueKey } from "./jira/issues.js";
import type { ProviderName } from "./types.js";
import { workItemId } from "./vsts/issues.js";

/**
 * An external key written the way the provider's webhooks write it ("5", not "0005"; "PRJA-37",
 * not "prja-37"), or undefined when it is not one: a link stored any other way never matches.
 */
export const externalKeyOf: Record<ProviderName, (raw: string) => string | undefined> = {
  vsts: (raw) => workItemId(raw)?.toString(),
  jira: issueKey,
};

export const externalKeyShape: Record<ProviderName, string> = {
  vsts: "a work item id, like 123",
  jira: "a Jira issue key, like PROJ-123",
};
