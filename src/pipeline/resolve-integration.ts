import { UsageError } from "../errors.js";
import type { ProviderName } from "../providers/types.js";
import type { IntegrationRow, IntegrationsRepo } from "../store/integrations-repo.js";

export type Resolution = { ok: true; integration: IntegrationRow } | { ok: false; reason: string; hint: string };

/**
 * The one choice of an integration every path makes: the one named (`--integration`, else the
 * payload's or the recorded delivery's, the caller's order), else the only one of the provider.
 * Without a provider, only a named one can be chosen. The reasons are behaviour.md's wording.
 */
export async function resolveIntegration(
  integrations: Pick<IntegrationsRepo, "byExternalId" | "onlyOf">,
  provider: ProviderName | undefined,
  named: string | null | undefined,
): Promise<Resolution> {
  const of = provider ? `${provider} ` : "";
  if (named) {
    const row = await integrations.byExternalId(named);
    if (row && (!provider || row.provider === provider)) return { ok: true, integration: row };
    return { ok: false, reason: `no ${of}integration ${named}`, hint: "check --integration, or add it with 'hooksync import'" };
  }
  const only = provider && (await integrations.onlyOf(provider));
  if (only) return { ok: true, integration: only };
  return { ok: false, reason: `which ${of}integration? use --integration`, hint: provider ? "the store holds none or several" : "nothing says which tracker it is" };
}

/** resolveIntegration for a command: the integration, or the usage error that says why not. */
export async function requireIntegration(...args: Parameters<typeof resolveIntegration>): Promise<IntegrationRow> {
  const r = await resolveIntegration(...args);
  if (!r.ok) throw new UsageError(r.reason, r.hint);
  return r.integration;
}
