import type { Deps } from "../deps.js";
import type { Store } from "../store/store.js";
import type { Delivery, Outcome, PipelineOptions } from "./delivery.js";

/**
 * One payload through the pipeline as replay runs it: a hidden Jira assignee looked up first
 * (rule 3.5, the integration resolved there is the one applied), then applied in a transaction.
 */
export async function runOne(
  store: Store,
  deps: Pick<Deps, "io" | "http" | "sleep" | "now" | "randomBytes">,
  delivery: Delivery,
  opts: PipelineOptions,
  note: (line: string) => void,
): Promise<Outcome> {
  const { processDelivery } = await import("./process.js");
  const { AssigneeEnricher, needsLookup } = await import("./enrich.js");
  if (needsLookup(delivery)) {
    const enricher = new AssigneeEnricher({ deps, note, dryRun: opts.dryRun ?? false });
    try {
      delivery = (await enricher.enrich(store, delivery, delivery.resolved ?? opts.integration)).delivery;
    } finally {
      await enricher.close();
    }
  }
  return processDelivery(store, delivery, opts, deps.now().toISOString());
}
