import type { ShownChange, Source } from "../engine/types.js";
import { isObject } from "../providers/schema.js";
import { type Headers, type Parsed, type ProviderName, providerNames } from "../providers/types.js";
import type { IntegrationRow } from "../store/integrations-repo.js";

/** One payload on its way to the engine, wherever it came from (HTTP, a file, simulate). */
export interface Delivery {
  /** Where it came from, for people: `file.ndjson:12`, `POST /hooks/vsts`. */
  source: string;
  /** Parsed JSON, or the reason it could not be parsed. */
  body: { ok: true; value: unknown } | { ok: false; reason: string };
  headers: Headers;
  provider?: ProviderName;
  integration?: string;
  /** What `provider` made of the body already (the receiver parses once to learn the external issue). */
  parsed?: Parsed;
  /**
   * The integration already found for it (serve's authenticated one, or the one an assignee
   * lookup resolved): the pipeline uses it rather than look it up again.
   */
  resolved?: IntegrationRow;
  /** Taken out of serve's envelope already: its body is the webhook's, never opened again. */
  opened?: true;
}

export type OutcomeKind = "applied" | "ignored" | "rejected";

/** The JSON line of cli.md, one per payload. */
export interface Outcome {
  source: string;
  provider: ProviderName | null;
  event: string | null;
  integration: string | null;
  outcome: OutcomeKind;
  reason: string | null;
  changes: ShownChange[];
  /** Why parts of an applied payload changed nothing (a skipped issue, a field not synced). */
  notes: string[];
}

export interface PipelineOptions {
  source: Source;
  provider?: ProviderName;
  integration?: string;
  dryRun?: boolean;
  /** `replay --ignore-order`: apply payloads older than what was applied already (rule 10.3). */
  ignoreOrder?: boolean;
}

/**
 * `{ provider, integration, headers, body }` as serve records a delivery. A webhook body never
 * has this shape: both trackers' bodies lack a top-level `provider` with a `body` beside it.
 * Opened once: the lookup and the pipeline both ask, and a body inside is taken as it is.
 */
export function unwrapEnvelope(d: Delivery): Delivery | { error: string } {
  if (!d.body.ok || d.opened) return d;
  const v = d.body.value;
  if (!isObject(v) || !("body" in v) || !("provider" in v)) return d;
  if (!providerNames.includes(v.provider as ProviderName)) {
    return { error: `envelope provider must be one of ${providerNames.join(", ")}, got ${JSON.stringify(v.provider)}` };
  }
  if (v.integration !== undefined && v.integration !== null && typeof v.integration !== "string") {
    return { error: "envelope integration must be a string" };
  }
  const headers: Headers = {};
  if (isObject(v.headers)) {
    for (const [k, val] of Object.entries(v.headers)) if (typeof val === "string") headers[k.toLowerCase()] = val;
  }
  return {
    source: d.source,
    body: { ok: true, value: v.body },
    headers,
    provider: v.provider as ProviderName,
    ...(typeof v.integration === "string" ? { integration: v.integration } : {}),
    opened: true,
  };
}
