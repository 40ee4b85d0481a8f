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
      /** The external issue the payload is about, when it names one. */
      externalKey: string | null;
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

/** A tracker's issue as search and link show it, the same for every provider. */
export interface ExternalIssue {
  /** What a link stores: the work item id ("123") or the issue key ("PROJ-12"). */
  key: string;
  title: string;
  status: string;
  /** The email when the tracker gives one, else the display name; null when unassigned. */
  assignee: string | null;
  /** The issue's page in the tracker's web UI. */
  url: string;
}

/** How many issues a search shows: as many as a person reads in a terminal. */
export const MAX_SEARCH_RESULTS = 25;

/** The tracker statuses a local status maps to in an external project (the first is the one to set); undefined: no mapping. */
export type TargetStatuses = (externalProject: string) => Promise<string[] | undefined>;
