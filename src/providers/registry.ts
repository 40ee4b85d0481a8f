import { jira } from "./jira/parse.js";
import type { Provider, ProviderName } from "./types.js";
import { vsts } from "./vsts/parse.js";

export const providers: Record<ProviderName, Provider> = { vsts, jira };

export function detectProvider(body: unknown): Provider | undefined {
  // Jira first: its bodies never carry eventType/resourceContainers, a VSTS body never webhookEvent.
  return jira.detect(body) ? jira : vsts.detect(body) ? vsts : undefined;
}
