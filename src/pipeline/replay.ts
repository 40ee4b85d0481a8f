import type { Deps } from "../deps.js";
import type { Store } from "../store/store.js";
import type { Outcome, PipelineOptions } from "./delivery.js";
import type { InputSource } from "./input-sources.js";

/**
 * Every payload of the sources through the pipeline: one transaction per read of the input, a
 * savepoint per payload, so each payload is still applied whole or not at all. Yields each
 * batch's outcomes once committed: a line printed never claims a change a crash could undo.
 */
export async function* replayBatches(
  store: Store,
  deps: Pick<Deps, "io" | "http" | "sleep" | "now" | "randomBytes">,
  sources: readonly InputSource[],
  opts: PipelineOptions,
  on: { bytes: (n: number) => void; note: (line: string) => void },
): AsyncGenerator<Outcome[]> {
  const { readSource } = await import("./input-sources.js");
  const { processBatch } = await import("./process.js");
  const { AssigneeEnricher, needsLookup } = await import("./enrich.js");
  const at = () => deps.now().toISOString();
  // Rule 3.5: hidden Jira assignee emails are looked up (stored OAuth credentials) before the batch's transaction.
  const enricher = new AssigneeEnricher({ deps, note: on.note, dryRun: opts.dryRun ?? false });
  try {
    for (const src of sources) {
      for await (const batch of readSource(src, on.bytes)) {
        const deliveries = batch.map((p) => ({ ...p, headers: {} }));
        for (const [i, d] of deliveries.entries()) if (needsLookup(d)) deliveries[i] = (await enricher.enrich(store, d, opts.integration)).delivery;
        yield await processBatch(store, deliveries, opts, at);
      }
    }
  } finally {
    await enricher.close();
  }
}
