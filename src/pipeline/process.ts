import { applyEvents } from "../engine/engine.js";
import { shownChange } from "../engine/types.js";
import { detectProvider, providers } from "../providers/registry.js";
import type { Parsed, Provider } from "../providers/types.js";
import type { Store } from "../store/store.js";
import { type Delivery, type Outcome, type PipelineOptions, unwrapEnvelope } from "./delivery.js";
import { resolveIntegration } from "./resolve-integration.js";

/**
 * The one pipeline: envelope -> provider -> parse -> integration -> engine, in one transaction.
 * serve, replay and simulate differ only in where the Delivery comes from.
 */
export function processDelivery(store: Store, delivery: Delivery, opts: PipelineOptions, at: string): Promise<Outcome> {
  return store.inTransaction((tx) => decide(tx, delivery, opts, at, null), opts.dryRun ?? false);
}

/**
 * The pipeline for serve, in the transaction the receiver gives it (its own on PostgreSQL, a
 * savepoint of the batch's on SQLite), where the receiver records the delivery deliveryId with
 * its outcome (rule 6.1).
 */
export function processInTransaction(tx: Store, delivery: Delivery, opts: PipelineOptions, at: string, deliveryId: number): Promise<Outcome> {
  return decide(tx, delivery, opts, at, deliveryId);
}

/**
 * A batch of payloads in one transaction, each in its own savepoint so each is still applied
 * whole or not at all; committing once per batch instead of once per payload is most of
 * replay's speed. Only the store is awaited inside: the batch is what the input had ready, its
 * lookups done before. The payloads are applied one after the other, in order.
 */
export function processBatch(store: Store, deliveries: readonly Delivery[], opts: PipelineOptions, at: () => string): Promise<Outcome[]> {
  // A dry run undoes each payload at once, so every payload is judged against the store as it is,
  // wherever the batch boundaries fall.
  const dryRun = opts.dryRun ?? false;
  return store.inTransaction(
    (tx) =>
      tx.applying(async () => {
        const outcomes: Outcome[] = [];
        for (const d of deliveries) outcomes.push(await tx.savepoint((sp) => decide(sp, d, opts, at(), null), dryRun));
        return outcomes;
      }),
    dryRun,
  );
}

/** Reasons quote payload text (event types, keys, ids): a hostile payload must not make them megabytes. */
export const MAX_QUOTED = 300;
const clip = (s: string): string => (s.length > MAX_QUOTED ? `${s.slice(0, MAX_QUOTED)}... (${s.length - MAX_QUOTED} more characters)` : s);
const clipOrNull = (s: string | null): string | null => (s === null ? null : clip(s));

/** tx: the payload's transaction (or savepoint); everything the payload reads and writes goes through it. */
async function decide(tx: Store, input: Delivery, opts: PipelineOptions, at: string, deliveryId: number | null): Promise<Outcome> {
  const o = await decideUnbounded(tx, input, opts, at, deliveryId);
  return { ...o, event: clipOrNull(o.event), integration: clipOrNull(o.integration), reason: clipOrNull(o.reason), notes: o.notes.map(clip) };
}

async function decideUnbounded(tx: Store, input: Delivery, opts: PipelineOptions, at: string, deliveryId: number | null): Promise<Outcome> {
  const out: Outcome = {
    source: input.source,
    provider: null,
    event: null,
    integration: null,
    outcome: "rejected",
    reason: null,
    changes: [],
    notes: [],
  };
  const reject = (reason: string): Outcome => ({ ...out, outcome: "rejected", reason });

  const delivery = unwrapEnvelope(input);
  if ("error" in delivery) return reject(delivery.error);
  if (!delivery.body.ok) return reject(delivery.body.reason);
  const body = delivery.body.value;

  const name = opts.provider ?? delivery.provider;
  const provider: Provider | undefined = name ? providers[name] : detectProvider(body);
  if (!provider) return reject("cannot tell which tracker sent this payload (use --provider vsts|jira)");
  out.provider = provider.name;

  const parsed: Parsed = delivery.parsed && delivery.provider === provider.name ? delivery.parsed : provider.parse(body);
  out.event = parsed.event;
  const named = opts.integration ?? delivery.integration ?? parsed.integration;
  // The integration found before (serve's authenticated one, a lookup's) stands unless the payload names another.
  const resolved = delivery.resolved?.provider === provider.name && (!named || named === delivery.resolved.externalId) ? delivery.resolved : undefined;
  out.integration = named ?? resolved?.externalId ?? null;
  if (!parsed.ok) return reject(parsed.reason);

  const found = resolved ? { ok: true as const, integration: resolved } : await resolveIntegration(tx.integrations, provider.name, named);
  if (!found.ok) return reject(found.reason);
  const integration = found.integration;
  out.integration = integration.externalId;

  const result = await applyEvents(tx.sync, { integrationId: integration.id, source: opts.source, deliveryId, at, ignoreOrder: opts.ignoreOrder ?? false }, parsed.events);
  const notes = [...parsed.notes, ...result.notes];
  if (result.changes.length > 0) {
    // Rules 7.2 and 8.1: pushes to the other linked trackers and notifications, queued in this
    // transaction; 'hooksync outbound send' sends them, so replay and serve stay offline.
    await tx.outbox.enqueue(result.changes, { integrationId: integration.id, via: provider.name, at });
    return { ...out, outcome: "applied", changes: result.changes.map(shownChange), notes };
  }
  return { ...out, outcome: "ignored", reason: notes.join("; ") || "nothing to change", notes };
}
