import type { Delivery, OutcomeKind } from "../pipeline/delivery.js";
import { needsLookup } from "../pipeline/enrich.js";
import { decodeJson } from "../pipeline/inputs.js";
import { processDelivery } from "../pipeline/process.js";
import { providers } from "../providers/registry.js";
import type { Headers, ProviderName } from "../providers/types.js";
import type { DeliveryEnd, DeliveryStart } from "../store/deliveries-repo.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import type { Store } from "../store/store.js";
import type { WalSync } from "../store/wal-sync.js";
import { type FindIntegration, type Verified, verifyJira, verifyVsts } from "./verify.js";

/** One request to a hook route, as the HTTP front hands it to the writer. */
export interface Arrival {
  seq: number;
  receivedAt: string;
  /** The front's clock when the request arrived: what a Jira token's exp and nbf are checked against. */
  nowMs: number;
  method: string;
  /** As logs show it: the Jira token redacted. */
  route: string;
  provider: ProviderName;
  /** The Jira URL token; "" for Azure DevOps. */
  token: string;
  /** As stored: lowercase names, secrets redacted. */
  headers: Headers;
  /** The shared-secret header as sent, for verification only: never stored. */
  sharedSecret: string | undefined;
  body: Uint8Array | null;
  /** Refused by the front before the body could be judged (405, 413, 408, 415, a client gone). */
  refused?: { status: number | null; reason: string };
}

/** What the writer decided, and the delivery row that records it. */
export interface Verdict {
  status: number | null;
  outcome: OutcomeKind | null;
  reason: string | null;
  delivery: number | null;
}

export type ToWriter =
  | { kind: "arrivals"; arrivals: Arrival[] }
  /** The front's answer to a lookup: the enriched body as JSON, or null when nothing was found. */
  | { kind: "enriched"; seq: number; body: string | null }
  | { kind: "stop" };

export type FromWriter =
  | { kind: "ready" }
  | { kind: "fatal"; message: string; hint?: string }
  | { kind: "verdicts"; verdicts: [number, Verdict][] }
  | { kind: "failed"; seqs: number[]; message: string }
  /** Rule 3.5: the writer holds this delivery, and those after it, until the front has asked Jira. */
  | { kind: "lookup"; seq: number; integration: string }
  | { kind: "stopped" };

const verdictOf = (o: { outcome: OutcomeKind }): number => (o.outcome === "rejected" ? 400 : 200);

/** An arrival with its body decoded once, however often it waits. */
interface Pending {
  arrival: Arrival;
  start: DeliveryStart;
  delivery: Delivery;
  /** Set once the front has done the lookup, or found nothing to look up. */
  looked: boolean;
}

type Result = { ok: true; verdict: Verdict } | { ok: false; error: unknown };

/**
 * The receiver's write side, alone on its thread with its own connection: it verifies each
 * delivery and applies it in arrival order, the delivery row and its changes in one transaction
 * (rule 6.1), and tells the front only once the transaction is on disk. Whatever arrived while
 * it was busy is one batch: one transaction, one WAL sync in flight at a time, the next batch
 * applied while the disk works. A delivery whose Jira assignee email is hidden stops the batch
 * before it: what came earlier is committed, it and what came later wait for the front's lookup,
 * so the last change to an issue still wins.
 */
export class Writer {
  private queue: Pending[] = [];
  private scheduled = false;
  /** The delivery at the head of the queue whose lookup the front is doing. */
  private waitingFor: number | undefined;
  private stopping = false;
  private stopped = false;
  private syncs = 0;
  private readonly lookup: FindIntegration;

  constructor(
    private readonly store: Store,
    private readonly wal: WalSync,
    private readonly opts: { enrich: boolean; post: (m: FromWriter) => void; onStopped: () => void },
  ) {
    this.lookup = (id) => store.integrations.byExternalId(id);
  }

  receive(m: ToWriter): void {
    if (m.kind === "arrivals") {
      for (const a of m.arrivals) this.queue.push(this.prepare(a));
    } else if (m.kind === "enriched") {
      const head = this.queue[0];
      if (head?.arrival.seq !== m.seq) return;
      if (m.body !== null) head.delivery = { ...head.delivery, body: { ok: true, value: JSON.parse(m.body) } };
      head.looked = true;
      this.waitingFor = undefined;
    } else {
      this.stopping = true;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private prepare(arrival: Arrival): Pending {
    const start: DeliveryStart = {
      receivedAt: arrival.receivedAt,
      source: "serve",
      route: arrival.route,
      provider: arrival.provider,
      identity: null,
      headers: arrival.headers,
      body: arrival.body === null ? null : Buffer.from(arrival.body.buffer, arrival.body.byteOffset, arrival.body.byteLength),
    };
    const body: Delivery["body"] =
      arrival.refused || arrival.body === null ? { ok: false, reason: arrival.refused?.reason ?? "no body" } : decodeJson(arrival.body);
    if (body.ok) start.identity = providers[arrival.provider].deliveryIdentity(body.value, start.headers);
    const delivery: Delivery = { source: `${arrival.method} ${arrival.route}`, body, headers: start.headers, provider: arrival.provider };
    return { arrival, start, delivery, looked: !this.opts.enrich || arrival.refused !== undefined || !needsLookup(delivery) };
  }

  private flush(): void {
    if (this.waitingFor === undefined) {
      const batch = this.take();
      if (batch.length > 0) this.commit(batch);
    }
    if (this.stopping && !this.stopped && this.queue.length === 0 && this.syncs === 0) {
      this.stopped = true;
      this.opts.onStopped();
    }
  }

  /** The deliveries to apply now: all that are ready, up to the first that needs a lookup. */
  private take(): Pending[] {
    let n = 0;
    for (; n < this.queue.length; n++) {
      const p = this.queue[n]!;
      if (p.looked) continue;
      // Nothing goes to Jira about a payload before its sender is authenticated; one that fails
      // is refused in this batch like any other.
      const verified = this.verify(p);
      if (!verified.ok) {
        p.looked = true;
        continue;
      }
      if (n === 0) {
        this.waitingFor = p.arrival.seq;
        this.opts.post({ kind: "lookup", seq: p.arrival.seq, integration: verified.integration.externalId });
      }
      break;
    }
    return this.queue.splice(0, n);
  }

  private commit(batch: Pending[]): void {
    let results: Result[];
    try {
      results = this.store.inTransaction(() =>
        batch.map((p): Result => {
          try {
            return { ok: true, verdict: this.write(p) };
          } catch (error) {
            if (!this.store.db.inTransaction) throw error;
            return { ok: false, error };
          }
        }),
      );
    } catch (error) {
      this.fail(batch.map((p) => p.arrival.seq), error);
      return;
    }
    this.syncs++;
    this.wal.sync().then(
      () => {
        const verdicts: [number, Verdict][] = [];
        const failed: number[] = [];
        let error: unknown;
        batch.forEach((p, i) => {
          const r = results[i]!;
          if (r.ok) verdicts.push([p.arrival.seq, r.verdict]);
          else {
            failed.push(p.arrival.seq);
            error = r.error;
          }
        });
        if (verdicts.length > 0) this.opts.post({ kind: "verdicts", verdicts });
        if (failed.length > 0) this.fail(failed, error);
      },
      (error: unknown) => this.fail(batch.map((p) => p.arrival.seq), error),
    ).finally(() => {
      this.syncs--;
      this.schedule();
    });
  }

  private fail(seqs: number[], error: unknown): void {
    this.opts.post({ kind: "failed", seqs, message: error instanceof Error ? error.message : String(error) });
  }

  /** Rules 2.1, 2.2 and 3.1, inside the batch's transaction where the lookup is nearly free. */
  private verify(p: Pending): Verified {
    const { arrival, delivery } = p;
    if (arrival.provider === "jira") return verifyJira(arrival.token, arrival.nowMs, this.lookup);
    if (!delivery.body.ok) return { ok: false, status: 400, reason: delivery.body.reason };
    return verifyVsts(delivery.body.value, arrival.sharedSecret, this.lookup);
  }

  /** Runs inside the batch's transaction. Every request to a hook route leaves a delivery row (rule 6.1). */
  private write(p: Pending): Verdict {
    if (p.arrival.refused) return this.refusal(p, p.arrival.refused.status, p.arrival.refused.reason);
    const verified = this.verify(p);
    if (!verified.ok) return this.refusal(p, verified.status, verified.reason);
    // From here on the sender is authenticated; a Jira body that is not JSON is the pipeline's
    // to reject, like any other malformed payload.
    return this.apply(p, verified.integration);
  }

  private refusal(p: Pending, status: number | null, reason: string): Verdict {
    const end: DeliveryEnd = { integration: null, event: null, verdict: status, outcome: "rejected", reason, changes: [] };
    return { status, outcome: "rejected", reason, delivery: this.store.deliveries.record({ ...p.start, ...end }) };
  }

  /**
   * The duplicate check and the apply cannot be split, so two copies of one notification (or two
   * serve processes on one store) cannot both apply.
   */
  private apply(p: Pending, integration: IntegrationRow): Verdict {
    const { store } = this;
    const { start } = p;
    const provider = start.provider!;
    const earlier = start.identity ? store.deliveries.appliedBefore(provider, integration.externalId, start.identity) : undefined;
    if (earlier !== undefined) {
      const reason = `redelivery of delivery ${earlier}`;
      const end: DeliveryEnd = { integration: integration.externalId, event: null, verdict: 200, outcome: "ignored", reason, changes: [] };
      return { status: 200, outcome: "ignored", reason, delivery: store.deliveries.record({ ...start, ...end }) };
    }
    let id = 0;
    const outcome = processDelivery(store, p.delivery, { source: "serve", provider, integration: integration.externalId }, start.receivedAt, {
      begin: () => (id = store.deliveries.begin(start)),
      // The authenticated integration, even when the pipeline rejected the payload before
      // naming one: replay --delivery tells verified deliveries by it.
      finish: (deliveryId, o) =>
        store.deliveries.finish(
          deliveryId,
          { integration: integration.externalId, event: o.event, verdict: verdictOf(o), outcome: o.outcome, reason: o.reason, changes: o.changes },
          start.body,
        ),
    });
    return { status: verdictOf(outcome), outcome: outcome.outcome, reason: outcome.reason, delivery: id };
  }
}
