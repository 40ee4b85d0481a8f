import type { SyncEvent } from "../engine/types.js";

export type ProviderName = "vsts" | "jira";
export const providerNames: readonly ProviderName[] = ["vsts", "jira"];

export type Headers = Record<string, string>;

/** What a provider makes of one payload, before the integration is known to the store. */
export type Parsed =
  | { ok: false; event: string | null; integration: string | null; reason: string }
  | {
      ok: true;
      event: string | null;
      /** The integration's externalId as the wire format names it (VSTS), else null. */
      integration: string | null;
      events: SyncEvent[];
      notes: string[];
    };

export interface Provider {
  name: ProviderName;
  /** True when the JSON looks like this provider's webhook body. */
  detect(body: unknown): boolean;
  parse(body: unknown): Parsed;
  /** The identity that stays the same when the tracker sends the same notification again. */
  deliveryIdentity(body: unknown, headers: Headers): string | null;
}
