import type { Deps } from "../deps.js";
import type { BaseHttpOptions } from "../http/client.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import { trackerBaseUrl } from "./credentials.js";

export interface JiraLogin {
  integration: string;
  baseUrl: string;
  user: { name: string | null; displayName: string | null };
  credentials: string;
}

/**
 * A personal access token for the integration, checked with GET /rest/api/2/myself before it is
 * kept (0600, beside the OAuth credentials): a mistyped token fails now, not in serve at night.
 */
export async function loginJira(deps: Pick<Deps, "io" | "now">, integration: IntegrationRow, token: string, http: BaseHttpOptions): Promise<JiraLogin> {
  const baseUrl = trackerBaseUrl(integration);
  const { JiraClient, bearer, jiraHttp } = await import("../providers/jira/client.js");
  const me = await new JiraClient(jiraHttp(http), baseUrl, bearer(token)).myself();
  const { CredentialStore } = await import("../config/credentials.js");
  const store = await CredentialStore.open(deps.io.env);
  store.saveJiraToken({ baseUrl, token, integration: integration.externalId, savedAt: deps.now().toISOString() });
  return { integration: integration.externalId, baseUrl, user: { name: me.name ?? null, displayName: me.displayName ?? null }, credentials: store.path };
}
