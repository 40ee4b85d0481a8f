import type { ShownChange, Source } from "../engine/types.js";
import type { Headers, ProviderName } from "../providers/types.js";
import type { Db } from "./db.js";
import { insertWithId, type SnowflakeIds } from "./ids.js";

export type DeliveryOutcome = "applied" | "ignored" | "rejected" | "pending";

/** What serve knows about a request before the pipeline has looked at it. */
export interface DeliveryStart {
  receivedAt: string;
  source: Source;
  route: string | null;
  provider: ProviderName | null;
  /** Rule 6.2: stays the same when the tracker sends the same notification again. */
  identity: string | null;
  /** The external issue the payload names (rule 10.4 orders pending deliveries by it). */
  externalKey: string | null;
  /** Already stripped of secrets. */
  headers: Headers;
  /** The bytes kept: all of them, or the first few KiB of a refused request; null when none were read. */
  body: Buffer | null;
  /** How many bytes the body had, and their SHA-256 when fewer were kept. */
  bodySize: number | null;
  bodySha256: string | null;
}

export interface DeliveryEnd {
  /** The integration's row id; null when the request named none the store knows. */
  integrationId: number | null;
  event: string | null;
  /** The HTTP status answered. */
  verdict: number | null;
  outcome: DeliveryOutcome;
  reason: string | null;
  changes: ShownChange[];
}

/**
 * `hooksync deliveries --json`, one element per delivery: id, receivedAt, source, route,
 * provider, integration (its externalId), event, verdict, outcome, reason, changes.
 */
export interface DeliveryView extends Pick<DeliveryStart, "receivedAt" | "source" | "route" | "provider">, Omit<DeliveryEnd, "integrationId"> {
  id: number;
  integration: string | null;
  /** Only on a row kept as a stub for its activity: when retention dropped its body and headers. */
  prunedAt?: string;
}

export interface StoredDelivery extends DeliveryView {
  headers: Headers;
  body: Buffer | null;
  /** The size of the body received; more than body's length when only its start was kept. */
  bodySize: number | null;
}

/** A delivery waiting to be applied (rule 10.4), with what applying it needs. */
export interface PendingDelivery extends StoredDelivery {
  integrationId: number;
  externalKey: string | null;
  attempts: number;
}

type Row = Omit<DeliveryView, "changes" | "prunedAt"> & { changes: string; prunedAt: string | null };
type FullRow = Row & { headers: string; body: Buffer | null; bodySize: number | null };
type PendingRow = FullRow & { integrationId: number; externalKey: string | null; attempts: number };

const VIEW = `
  d.id, d.received_at AS receivedAt, d.source, d.route, d.provider, g.external_id AS integration, d.event,
  d.verdict, d.outcome, d.reason, d.changes, d.pruned_at AS prunedAt
  FROM deliveries d LEFT JOIN integrations g ON g.id = d.integration_id`;

/** Refused or rejected: `deliveries --failed`, and what `deliveries prune --keep-failed` keeps. */
export const FAILED = `(outcome = 'rejected' OR verdict >= 400)`;

// A row begun inside the pipeline's transaction holds this until finish() in the same
// transaction, so no reader ever sees it.
const UNFINISHED: DeliveryEnd = { integrationId: null, event: null, verdict: null, outcome: "rejected", reason: null, changes: [] };

/** The delivery log of `serve` (rule 6.1); every statement prepared once per connection. */
export class DeliveriesRepo {
  private readonly insert;
  private readonly update;
  private readonly applied;
  private readonly listed;
  private readonly one;
  private readonly pendingRows;
  private readonly firstPending;
  private readonly stillPending;
  private readonly waiting;

  constructor(
    db: Db,
    private readonly ids: SnowflakeIds,
  ) {
    this.insert = db.prepare<
      [number, string, string, string | null, string | null, number | null, string | null, string | null, string | null, string, Buffer | null, number | null, string | null, number | null, string, string | null, string]
    >(`
      INSERT INTO deliveries (id, received_at, source, route, provider, integration_id, identity, external_key, event, headers, body, body_size, body_sha256, verdict, outcome, reason, changes)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.update = db.prepare<[number | null, string | null, number | null, string, string | null, string, Buffer | null, number]>(`
      UPDATE deliveries SET integration_id = ?, event = ?, verdict = ?, outcome = ?, reason = ?, changes = ?, body = coalesce(?, body)
      WHERE id = ?`);
    // A pending delivery counts as received: its redelivery must not be applied beside it.
    this.applied = db.prepare<[string, string, number], { id: number }>(`
      SELECT id FROM deliveries
      WHERE provider = ? AND identity = ? AND integration_id = ? AND outcome IN ('applied', 'pending')
      ORDER BY id LIMIT 1`);
    // Newest last; the limit keeps the newest N.
    this.listed = db.prepare<[number, number, number], Row>(`
      SELECT * FROM (SELECT ${VIEW}
        WHERE (? = 0 OR ${FAILED}) AND (? = 0 OR d.outcome = 'pending')
        ORDER BY d.id DESC LIMIT ?)
      ORDER BY id`);
    this.one = db.prepare<[number], FullRow>(`SELECT d.headers, d.body, d.body_size AS bodySize, ${VIEW} WHERE d.id = ?`);
    this.pendingRows = db.prepare<[number, number], PendingRow>(`
      SELECT d.headers, d.body, d.body_size AS bodySize, d.integration_id AS integrationId, d.external_key AS externalKey, d.attempts, ${VIEW}
      WHERE d.outcome = 'pending' AND d.id > ? ORDER BY d.id LIMIT ?`);
    this.firstPending = db.prepare<[number, string], { id: number }>(
      `SELECT id FROM deliveries WHERE outcome = 'pending' AND integration_id = ? AND external_key = ? ORDER BY id LIMIT 1`,
    );
    this.stillPending = db.prepare<[number], { id: number }>(`SELECT id FROM deliveries WHERE id = ? AND outcome = 'pending'`);
    this.waiting = db.prepare<[string, number]>(`UPDATE deliveries SET reason = ?, attempts = attempts + 1 WHERE id = ? AND outcome = 'pending'`);
  }

  /**
   * Inserts the row and returns its id, the activity rows' delivery_id; finish() completes it.
   * The body is written by finish() only: an UPDATE rewrites the whole record, overflow pages
   * and all, so a body inserted here would be written to the WAL twice per delivery.
   */
  begin(d: DeliveryStart): number {
    return this.record({ ...d, ...UNFINISHED, body: null });
  }

  /** Completes a row; a null body keeps the one stored (a pending delivery applied later). */
  finish(id: number, e: DeliveryEnd, body: Buffer | null): void {
    this.update.run(e.integrationId, e.event, e.verdict, e.outcome, e.reason, JSON.stringify(e.changes), body, id);
  }

  /** A delivery decided at once (refused, a redelivery, pending): one row, nothing else written. */
  record(d: DeliveryStart & DeliveryEnd): number {
    const headers = JSON.stringify(d.headers);
    const changes = JSON.stringify(d.changes);
    return insertWithId(this.ids, "delivery", (id) =>
      this.insert.run(
        id, d.receivedAt, d.source, d.route, d.provider, d.integrationId, d.identity, d.externalKey, d.event, headers,
        d.body, d.bodySize, d.bodySha256, d.verdict, d.outcome, d.reason, changes,
      ),
    );
  }

  /** Rule 6.2: the first applied (or pending) delivery of this integration with the same identity. */
  appliedBefore(provider: ProviderName, integrationId: number, identity: string): number | undefined {
    return this.applied.get(provider, identity, integrationId)?.id;
  }

  /** Rule 10.4: the oldest delivery still pending for this external issue, which a later one must wait for. */
  pendingFor(integrationId: number, externalKey: string): number | undefined {
    return this.firstPending.get(integrationId, externalKey)?.id;
  }

  /** Pending deliveries after the given id, oldest first. */
  pending(after = 0, limit = 100): PendingDelivery[] {
    return this.pendingRows.all(after, limit).map(({ headers, body, bodySize, ...rest }) => ({
      ...view(rest),
      headers: JSON.parse(headers) as Headers,
      body,
      bodySize,
      integrationId: rest.integrationId,
      externalKey: rest.externalKey,
      attempts: rest.attempts,
    }));
  }

  /** Whether it is still pending: another receiver on the same store may have applied it. */
  isPending(id: number): boolean {
    return this.stillPending.get(id) !== undefined;
  }

  /** Another try that could not apply it: why it still waits. */
  stillWaiting(id: number, reason: string): void {
    this.waiting.run(reason, id);
  }

  list(filter: { failed?: boolean; pending?: boolean; limit?: number } = {}): DeliveryView[] {
    return this.listed.all(filter.failed ? 1 : 0, filter.pending ? 1 : 0, filter.limit ?? -1).map(view);
  }

  get(id: number): StoredDelivery | undefined {
    const row = this.one.get(id);
    if (!row) return undefined;
    const { headers, body, bodySize, ...rest } = row;
    return { ...view(rest), headers: JSON.parse(headers) as Headers, body, bodySize };
  }
}

const view = (r: Row): DeliveryView => ({
  id: r.id,
  receivedAt: r.receivedAt,
  source: r.source,
  route: r.route,
  provider: r.provider,
  integration: r.integration,
  event: r.event,
  verdict: r.verdict,
  outcome: r.outcome,
  reason: r.reason,
  changes: JSON.parse(r.changes) as ShownChange[],
  ...(r.prunedAt ? { prunedAt: r.prunedAt } : {}),
});
