import type { ShownChange, Source } from "../engine/types.js";
import type { Headers, ProviderName } from "../providers/types.js";
import { insertWithId, type SnowflakeIds } from "./ids.js";
import type { Sql } from "./sql.js";

export type DeliveryOutcome = "applied" | "ignored" | "rejected" | "pending";

/** A delivery's row written (its id), or not: held, the delivery holding its identity (rule 6.2). */
export type Recorded = { id: number } | { held: number };

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

/**
 * A LIMIT that keeps every row: PostgreSQL refuses SQLite's LIMIT -1, and SQLite PostgreSQL's
 * LIMIT NULL; both take this number.
 */
export const NO_LIMIT = Number.MAX_SAFE_INTEGER;

// A row begun inside the pipeline's transaction holds this until finish() in the same
// transaction, so no reader ever sees it.
const UNFINISHED: DeliveryEnd = { integrationId: null, event: null, verdict: null, outcome: "rejected", reason: null, changes: [] };

// A row claims its identity (rule 6.2) while it is applied or pending, and begin() claims it at
// once: a unique index lets one row of an integration hold an identity, so a second insert claiming
// it writes nothing (on PostgreSQL, it first waits for the holder's transaction to end).
const INSERT = `
  INSERT INTO deliveries (id, received_at, source, route, provider, integration_id, identity, external_key, event, headers, body, body_size, body_sha256, verdict, outcome, reason, changes, claim)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT DO NOTHING`;
const HOLDER = `SELECT id FROM deliveries WHERE provider = ? AND integration_id = ? AND claim = ?`;
// An outcome other than applied or pending lets the identity go: its redelivery is judged again.
const UPDATE = `
  UPDATE deliveries SET integration_id = ?, event = ?, verdict = ?, outcome = ?, reason = ?, changes = ?, body = coalesce(?, body),
    claim = CASE WHEN ? IN ('applied', 'pending') THEN claim END
  WHERE id = ?`;
// Advisory locks live for the transaction; the integration and hashtext of provider:key name one.
const LOCK_JUDGING = `SELECT pg_advisory_xact_lock(CAST(? AS INTEGER), hashtext(?)) AS locked`;
// Newest last; the limit keeps the newest N. PostgreSQL before 16 wants the subquery named.
const LISTED = `
  SELECT * FROM (SELECT ${VIEW}
    WHERE (? = 0 OR ${FAILED}) AND (? = 0 OR d.outcome = 'pending')
    ORDER BY d.id DESC LIMIT ?) AS newest
  ORDER BY id`;
const ONE = `SELECT d.headers, d.body, d.body_size AS bodySize, ${VIEW} WHERE d.id = ?`;
const PENDING_ROWS = `
  SELECT d.headers, d.body, d.body_size AS bodySize, d.integration_id AS integrationId, d.external_key AS externalKey, d.attempts, ${VIEW}
  WHERE d.outcome = 'pending' AND d.id > ? ORDER BY d.id LIMIT ?`;
const FIRST_PENDING = `SELECT id FROM deliveries WHERE outcome = 'pending' AND integration_id = ? AND external_key = ? ORDER BY id LIMIT 1`;
const STILL_PENDING = `SELECT id FROM deliveries WHERE id = ? AND outcome = 'pending'`;
const WAITING = `UPDATE deliveries SET reason = ?, attempts = attempts + 1 WHERE id = ? AND outcome = 'pending'`;

/** The delivery log of `serve` (rule 6.1). */
export class DeliveriesRepo {
  constructor(
    private readonly sql: Sql,
    private readonly ids: SnowflakeIds,
  ) {}

  /**
   * The row of a delivery about to be applied, claiming its identity: its id is the activity rows'
   * delivery_id, and finish() completes it in the same transaction, so no reader sees it
   * unfinished. held: another applied or pending delivery holds the identity (rule 6.2), and
   * nothing was written. The body is written by finish() only: an UPDATE rewrites the whole
   * record, overflow pages and all, so a body inserted here would be written to the WAL twice.
   */
  begin(d: DeliveryStart, integrationId: number): Promise<Recorded> {
    return this.insert({ ...d, ...UNFINISHED, integrationId, body: null }, true);
  }

  /** Completes a row; a null body keeps the one stored (a pending delivery applied later). */
  async finish(id: number, e: DeliveryEnd, body: Buffer | null): Promise<void> {
    await this.sql.run(UPDATE, [e.integrationId, e.event, e.verdict, e.outcome, e.reason, JSON.stringify(e.changes), body, e.outcome, id]);
  }

  /** A delivery decided at once (refused, a redelivery, pending): one row, nothing else written; a pending one claims its identity. */
  record(d: DeliveryStart & DeliveryEnd): Promise<Recorded> {
    return this.insert(d, d.outcome === "pending");
  }

  private async insert(d: DeliveryStart & DeliveryEnd, claims: boolean): Promise<Recorded> {
    const headers = JSON.stringify(d.headers);
    const changes = JSON.stringify(d.changes);
    const claim = claims && d.provider !== null && d.integrationId !== null ? d.identity : null;
    let held: number | undefined;
    const id = await insertWithId(this.ids, "delivery", async (id) => {
      const written = await this.sql.run(INSERT, [
        id, d.receivedAt, d.source, d.route, d.provider, d.integrationId, d.identity, d.externalKey, d.event, headers,
        d.body, d.bodySize, d.bodySha256, d.verdict, d.outcome, d.reason, changes, claim,
      ]);
      // Nothing written: the id was taken, or the claim is held; a held claim ends the tries.
      if (written === 0 && claim !== null) held = (await this.sql.get<{ id: number }>(HOLDER, [d.provider, d.integrationId, claim]))?.id;
      return held === undefined ? written : 1;
    });
    return held === undefined ? { id } : { held };
  }

  /**
   * Holds, until this transaction ends, the right to judge deliveries of one external issue (or,
   * without one, of one notification): the redelivery check, the pending check, the revision guard
   * and the apply read what the others wrote, so two receivers of one PostgreSQL store must take
   * turns. On SQLite the write lock already makes every transaction take its turn.
   */
  async lockJudging(provider: ProviderName, integrationId: number, key: string): Promise<void> {
    if (this.sql.dialect === "postgres") await this.sql.get(LOCK_JUDGING, [integrationId, `${provider}:${key}`]);
  }

  /** Rule 10.4: the oldest delivery still pending for this external issue, which a later one must wait for. */
  async pendingFor(integrationId: number, externalKey: string): Promise<number | undefined> {
    return (await this.sql.get<{ id: number }>(FIRST_PENDING, [integrationId, externalKey]))?.id;
  }

  /** Pending deliveries after the given id, oldest first. */
  async pending(after = 0, limit = 100): Promise<PendingDelivery[]> {
    return (await this.sql.all<PendingRow>(PENDING_ROWS, [after, limit])).map(({ headers, body, bodySize, ...rest }) => ({
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
  async isPending(id: number): Promise<boolean> {
    return (await this.sql.get<{ id: number }>(STILL_PENDING, [id])) !== undefined;
  }

  /** Another try that could not apply it: why it still waits. */
  async stillWaiting(id: number, reason: string): Promise<void> {
    await this.sql.run(WAITING, [reason, id]);
  }

  async list(filter: { failed?: boolean; pending?: boolean; limit?: number } = {}): Promise<DeliveryView[]> {
    return (await this.sql.all<Row>(LISTED, [filter.failed ? 1 : 0, filter.pending ? 1 : 0, filter.limit ?? NO_LIMIT])).map(view);
  }

  async get(id: number): Promise<StoredDelivery | undefined> {
    const row = await this.sql.get<FullRow>(ONE, [id]);
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
