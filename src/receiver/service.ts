import type { Deps } from "../deps.js";
import type { PushResult } from "../outbound/send.js";
import type { Store } from "../store/store.js";
import type { RequestLog } from "./answer.js";
import type { PruneResult } from "./retention.js";
import type { ServeOptions } from "./server.js";

export interface ServiceOptions extends Omit<ServeOptions, "pendingIntervalMs"> {
  /** One Jira user lookup's budget; past it the delivery is kept pending (rule 10.4). */
  lookupTimeoutMs: number;
  /** After a failed lookup: how long that Jira's lookups pause, and how often pending deliveries are tried again. */
  lookupCooldownMs: number;
  /** Deliveries older than this are pruned in the background; 0 keeps them all. */
  retainMs: number;
  /** Whether serve sends the outbox itself (else 'hooksync outbound send' does). */
  outbound: boolean;
}

/** What the service tells the command that runs it, for printing. */
export interface ServiceEvents {
  request: (entry: RequestLog) => void;
  pushed: (result: PushResult) => void;
  pruned: (result: PruneResult) => void;
  /** Details for -v. */
  note: (line: string) => void;
  error: (part: "receiver" | "outbound" | "retention", err: Error) => void;
}

export interface RunningService {
  url: string;
  /** Stops accepting, finishes the requests, the push and the pruning in flight; the store stays open. */
  close(): Promise<void>;
}

/**
 * `hooksync serve` as a service: the receiver, the assignee lookups it may need, the outbox
 * drained on its schedule and the delivery log pruned, all on one store.
 */
export async function startService(store: Store, deps: Deps, opts: ServiceOptions, on: ServiceEvents): Promise<RunningService> {
  const { startServer } = await import("./server.js");
  const { startRetention } = await import("./retention.js");
  const { AssigneeEnricher } = await import("../pipeline/enrich.js");
  // Behaviour 7.3: the outbox sent on its schedule, unless 'hooksync outbound send' is left to do it.
  const drain = opts.outbound
    ? (await import("../outbound/drain.js")).startOutboxDrain(store, deps, { report: on.pushed, onError: (e) => on.error("outbound", e), log: on.note })
    : undefined;
  // Rule 3.5 within a budget: a lookup that fails keeps its delivery pending (rule 10.4), and the
  // integration's lookups pause for the cooldown, then are tried again.
  const enricher = new AssigneeEnricher({ deps, note: on.note, budgetMs: opts.lookupTimeoutMs, cooldownMs: opts.lookupCooldownMs });
  const { lookupTimeoutMs: _budget, lookupCooldownMs, retainMs, outbound: _outbound, ...serve } = opts;
  const server = await startServer(store, { ...serve, pendingIntervalMs: lookupCooldownMs }, {
    now: deps.now,
    lookup: async (delivery, integration) => {
      const e = await enricher.enrich(store, delivery, integration);
      return e.failure === undefined ? { ok: true, delivery: e.delivery } : { ok: false, reason: e.failure };
    },
    log: (entry) => {
      // An applied delivery may have queued pushes: the drain looks now rather than at its next tick.
      if (entry.outcome === "applied") drain?.kick();
      on.request(entry);
    },
    onError: (e) => on.error("receiver", e),
  });
  const retention = startRetention(store, { retainMs, now: deps.now, onPass: on.pruned, onError: (e) => on.error("retention", e) });
  return {
    url: server.url,
    close: async () => {
      await retention.stop();
      await server.close();
      await drain?.stop();
      await enricher.close();
    },
  };
}
