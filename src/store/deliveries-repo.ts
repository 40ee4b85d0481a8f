import type { Change, Source } from "../engine/types.js";
import type { Headers, ProviderName } from "../providers/types.js";
import type { Db } from "./db.js";
import { insertWithId, type SnowflakeIds } from "./ids.js";

export type DeliveryOutcome = "applied" | "ignored" | "rejected";

/** What serve knows about a request before the pipeline has looked at it. */
export interface DeliveryStart {
  receivedAt: string;
  source: Source;
  route: string | null;
  provider: ProviderName | null;
  /** Rule 6.2: stays the same when the tracker sends the same notification again. */
  identity: string | null;
  /** Already stripped of secrets. */
  headers: Headers;
  /** The raw bytes as received; null when they were not read (over the body limit). */
  body: Buffer | null;
}

export interface DeliveryEnd {
  /** The integration's externalId; one the store does not know is kept as null. */
  integration: string | null;
  event: string | null;
  /** The HTTP status answered. */
  verdict: number | null;
  outcome: DeliveryOutcome;
  reason: string | null;
  changes: Change[];
}

/**
 * `hooksync deliveries --json`, one element per delivery: id, receivedAt, source, route,
 * provider, integration, event, verdict, outcome, reason, changes (in that order).
 */
export interface DeliveryView extends Pick<DeliveryStart, "receivedAt" | "source" | "route" | "provider">, DeliveryEnd {
  id: number;
  /** Only on a row kept as a stub for its activity: when retention dropped its body and headers. */
  prunedAt?: string;
}

export interface StoredDelivery extends DeliveryView {
  headers: Headers;
  body: Buffer | null;
}

type Row = Omit<DeliveryView, "changes" | "prunedAt"> & { changes: string; prunedAt: string | null };
type FullRow = Row & { headers: string; body: Buffer | null };

const VIEW = `
  d.id, d.received_at AS receivedAt, d.source, d.route, d.provider, g.external_id AS integration, d.event,
  d.verdict, d.outcome, d.reason, d.changes, d.pruned_at AS prunedAt
  FROM deliveries d LEFT JOIN integrations g ON g.id = d.integration_id`;

/** Refused or rejected: `deliveries --failed`, and what `deliveries prune --keep-failed` keeps. */
export const FAILED = `(outcome = 'rejected' OR verdict >= 400)`;

const INTEGRATION_ID = `(SELECT id FROM integrations WHERE external_id = ?)`;

// A row begun inside the pipeline's transaction holds this until finish() in the same
// transaction, so no reader ever sees it.
const UNFINISHED: DeliveryEnd = { integration: null, event: null, verdict: null, outcome: "rejected", reason: null, changes: [] };

/** The delivery log of `serve` (rule 6.1); every statement prepared once per connection. */
export class DeliveriesRepo {
  private readonly insert;
  private readonly update;
  private readonly applied;
  private readonly listed;
  private readonly one;

  constructor(
    db: Db,
    private readonly ids: SnowflakeIds,
  ) {
    this.insert = db.prepare<[number, string, string, string | null, string | null, string | null, string | null, string | null, string, Buffer | null, number | null, string, string | null, string]>(`
      INSERT INTO deliveries (id, received_at, source, route, provider, integration_id, identity, event, headers, body, verdict, outcome, reason, changes)
      VALUES (?, ?, ?, ?, ?, ${INTEGRATION_ID}, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.update = db.prepare<[string | null, string | null, number | null, string, string | null, string, Buffer | null, number]>(`
      UPDATE deliveries SET integration_id = ${INTEGRATION_ID}, event = ?, verdict = ?, outcome = ?, reason = ?, changes = ?, body = ?
      WHERE id = ?`);
    this.applied = db.prepare<[string, string, string], { id: number }>(`
      SELECT d.id FROM deliveries d JOIN integrations g ON g.id = d.integration_id
      WHERE d.provider = ? AND d.identity = ? AND g.external_id = ? AND d.outcome = 'applied'
      ORDER BY d.id LIMIT 1`);
    // Newest last; the limit keeps the newest N.
    this.listed = db.prepare<[number, number], Row>(`
      SELECT * FROM (SELECT ${VIEW}
        WHERE (? = 0 OR ${FAILED})
        ORDER BY d.id DESC LIMIT ?)
      ORDER BY id`);
    this.one = db.prepare<[number], FullRow>(`SELECT d.headers, d.body, ${VIEW} WHERE d.id = ?`);
  }

  /**
   * Inserts the row and returns its id, the activity rows' delivery_id; finish() completes it.
   * The body is written by finish() only: an UPDATE rewrites the whole record, overflow pages
   * and all, so a body inserted here would be written to the WAL twice per delivery.
   */
  begin(d: DeliveryStart): number {
    return this.record({ ...d, ...UNFINISHED, body: null });
  }

  finish(id: number, e: DeliveryEnd, body: Buffer | null): void {
    this.update.run(e.integration, e.event, e.verdict, e.outcome, e.reason, JSON.stringify(e.changes), body, id);
  }

  /** A delivery refused before the pipeline (401, 413, ...): one row, nothing else written. */
  record(d: DeliveryStart & DeliveryEnd): number {
    const headers = JSON.stringify(d.headers);
    const changes = JSON.stringify(d.changes);
    return insertWithId(this.ids, "delivery", (id) =>
      this.insert.run(id, d.receivedAt, d.source, d.route, d.provider, d.integration, d.identity, d.event, headers, d.body, d.verdict, d.outcome, d.reason, changes),
    );
  }

  /** Rule 6.2: the first applied delivery of this integration with the same identity. */
  appliedBefore(provider: ProviderName, integration: string, identity: string): number | undefined {
    return this.applied.get(provider, identity, integration)?.id;
  }

  list(filter: { failed?: boolean; limit?: number } = {}): DeliveryView[] {
    return this.listed.all(filter.failed ? 1 : 0, filter.limit ?? -1).map(view);
  }

  get(id: number): StoredDelivery | undefined {
    const row = this.one.get(id);
    if (!row) return undefined;
    const { headers, body, ...rest } = row;
    return { ...view(rest), headers: JSON.parse(headers) as Headers, body };
  }
}

const view = ({ prunedAt, ...r }: Row): DeliveryView => ({ ...r, changes: JSON.parse(r.changes) as Change[], ...(prunedAt ? { prunedAt } : {}) });
