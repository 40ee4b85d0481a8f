import type { Change } from "../engine/types.js";
import type { ProviderName } from "../providers/types.js";
import type { Db } from "./db.js";
import { insertWithId, type SnowflakeIds } from "./ids.js";
import type { ReadMemo } from "./read-memo.js";

export type OutboxKind = "assignee" | "status" | "discord";
export type OutboxState = "pending" | "done" | "failed";
/** Where a change came from: the command line, or the tracker whose webhook carried it. */
export type Via = "cli" | ProviderName;

/** What a row pushes: the change's values when it was made (an email or status, null = unassigned). */
export interface OutboxPayload {
  to: string | null;
  from: string | null;
  via: Via;
}

export interface OutboxRow {
  id: number;
  kind: OutboxKind;
  issueId: number;
  issue: string;
  title: string;
  /** Null for a Discord notification. */
  integrationId: number | null;
  integration: string | null;
  provider: ProviderName | null;
  externalKey: string | null;
  payload: OutboxPayload;
  state: OutboxState;
  attempts: number;
  lastError: string | null;
  /** When the schedule sends it next (ms since the epoch); 0 = at once. */
  nextAttemptAt: number;
  createdAt: string;
  updatedAt: string;
}

export interface Origin {
  /** The integration the change came in from (rule 7.2: never pushed back to it); null from the CLI. */
  integrationId: number | null;
  via: Via;
  at: string;
}

type RawRow = Omit<OutboxRow, "payload"> & { payload: string };

const SELECT = `
  SELECT o.id, o.kind, o.issue_id AS issueId, i.key AS issue, i.title, o.integration_id AS integrationId,
         g.external_id AS integration, g.provider, o.external_key AS externalKey, o.payload, o.state, o.attempts,
         o.last_error AS lastError, o.next_attempt_at AS nextAttemptAt, o.created_at AS createdAt, o.updated_at AS updatedAt
  FROM outbox o JOIN issues i ON i.id = o.issue_id LEFT JOIN integrations g ON g.id = o.integration_id`;

const parse = (r: RawRow): OutboxRow => ({ ...r, payload: JSON.parse(r.payload) as OutboxPayload });

/** One sender's claim: its id, the time now and the lease's end (ms since the epoch), and updated_at. */
export interface Claim {
  by: string;
  now: number;
  until: number;
  at: string;
}

/** Which row a sender takes next. */
export interface NextClaim extends Claim {
  /**
   * The schedule (serve's drain): only pending rows that are due, each behind every older unsent
   * row of its target. Else by hand: any unsent row, held back only while another sender has an
   * older one of its target in flight.
   */
  due: boolean;
  /** Only rows after this id: a run by hand tries each row once. */
  after: number;
  /** Integrations that asked for a pause (Retry-After): their rows wait. */
  skip: number[];
}

/** A failed attempt: the error to keep, when to try again, and the first-failure time before which a row is given up. */
export interface Failure {
  error: string;
  nextAttemptAt: number;
  giveUpBefore: number;
}

// A row's claim is free when no sender holds it, or the holder's lease ran out (it died mid-send).
const FREE = `(claimed_until IS NULL OR claimed_until <= @now)`;
// An older unsent row of the same target: the same external issue of the same integration, or for
// a notification the same local issue. `extra` narrows what holds a row back.
const OLDER = (extra: string) => `
  NOT EXISTS (SELECT 1 FROM outbox b WHERE o.kind != 'discord' AND b.state != 'done' AND b.id < o.id
              AND b.integration_id = o.integration_id AND b.external_key = o.external_key ${extra})
  AND NOT EXISTS (SELECT 1 FROM outbox b WHERE o.kind = 'discord' AND b.state != 'done' AND b.id < o.id
              AND b.kind = 'discord' AND b.issue_id = o.issue_id ${extra})`;
const IN_FLIGHT = `AND b.claimed_by != @by AND b.claimed_until > @now`;
// One statement a single sender wins: the inner SELECT picks (on PostgreSQL it becomes
// SELECT ... FOR UPDATE SKIP LOCKED), the outer WHERE checks the claim is still free.
const CLAIM = (pick: string) => `
  UPDATE outbox SET claimed_by = @by, claimed_until = @until, attempts = attempts + 1, updated_at = @at
  WHERE id = (${pick}) AND state != 'done' AND ${FREE}
  RETURNING id`;
const PICK = (where: string) => `
  SELECT o.id FROM outbox o
  WHERE o.id > @after AND ${FREE.replace(/claimed_until/g, "o.claimed_until")}
    AND (o.integration_id IS NULL OR o.integration_id NOT IN (SELECT value FROM json_each(@skip)))
    AND ${where}
  ORDER BY o.id LIMIT 1`;

/**
 * The outbox (rule 7.3): pushes and notifications written in the transaction of the change that
 * causes them, sent after commit, each result recorded in a transaction of its own.
 */
export class OutboxRepo {
  private readonly supersede;
  private readonly targets;
  private readonly insert;
  private readonly channelRow;
  private readonly oneRow;
  private readonly rows;
  private readonly claimDue;
  private readonly claimAny;
  private readonly claimId;
  private readonly markDone;
  private readonly markFailed;
  private readonly remove;
  private readonly message;
  private readonly saveMessage;
  private readonly upsertChannel;
  private readonly deleteChannel;
  private readonly dropDiscord;
  private readonly tally;
  private readonly unsentTotal;
  private readonly linked;

  constructor(
    db: Db,
    private readonly ids: SnowflakeIds,
    private readonly memo: ReadMemo,
  ) {
    this.supersede = db.prepare<[number, string, string]>(`DELETE FROM outbox WHERE issue_id = ? AND kind IN (?, ?) AND state != 'done'`);
    // The issue's links whose organization pushes this field to that integration, the origin left out.
    this.targets = db.prepare<[number, number | null, string], { integrationId: number; externalKey: string }>(`
      SELECT l.integration_id AS integrationId, l.external_key AS externalKey
      FROM issues i
      JOIN projects p ON p.id = i.project_id
      JOIN links l ON l.issue_id = i.id
      JOIN integration_organizations io ON io.integration_id = l.integration_id AND io.organization_id = p.organization_id
      JOIN sync_settings s ON s.integration_id = l.integration_id AND s.organization_id = p.organization_id
      WHERE i.id = ? AND l.integration_id IS NOT ?
        AND (CASE ? WHEN 'assignee' THEN s.outbound_assignee ELSE s.outbound_status END) = 1
      ORDER BY l.integration_id, l.external_key`);
    this.insert = db.prepare<[number, string, number, number | null, string | null, string, string, string]>(`
      INSERT INTO outbox (id, kind, issue_id, integration_id, external_key, payload, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    this.channelRow = db.prepare<[], { webhookId: string }>(`SELECT webhook_id AS webhookId FROM notify_channels WHERE kind = 'discord'`);
    this.oneRow = db.prepare<[number], RawRow>(`${SELECT} WHERE o.id = ?`);
    this.rows = db.prepare<[string | null, string | null], RawRow>(`${SELECT} WHERE (? IS NULL OR o.state = ?) ORDER BY o.id`);
    type Next = Omit<NextClaim, "due" | "skip"> & { skip: string };
    this.claimDue = db.prepare<[Next], { id: number }>(CLAIM(PICK(`o.state = 'pending' AND o.next_attempt_at <= @now AND ${OLDER("")}`)));
    this.claimAny = db.prepare<[Next], { id: number }>(CLAIM(PICK(`o.state != 'done' AND ${OLDER(IN_FLIGHT)}`)));
    this.claimId = db.prepare<[Claim & { id: number }], { id: number }>(
      CLAIM(`SELECT o.id FROM outbox o WHERE o.id = @id AND ${OLDER(IN_FLIGHT)}`),
    );
    const mine = `WHERE id = @id AND claimed_by = @by`;
    this.markDone = db.prepare<[{ id: number; by: string; at: string }]>(
      `UPDATE outbox SET state = 'done', last_error = NULL, claimed_by = NULL, claimed_until = NULL, updated_at = @at ${mine}`,
    );
    this.markFailed = db.prepare<[Failure & { id: number; by: string; now: number; at: string }], { state: OutboxState }>(`
      UPDATE outbox SET last_error = @error, next_attempt_at = @nextAttemptAt, failing_since = COALESCE(failing_since, @now),
        state = CASE WHEN COALESCE(failing_since, @now) <= @giveUpBefore THEN 'failed' ELSE 'pending' END,
        claimed_by = NULL, claimed_until = NULL, updated_at = @at
      ${mine} RETURNING state`);
    this.remove = db.prepare<[number]>(`DELETE FROM outbox WHERE id = ? AND state != 'done'`);
    this.message = db.prepare<[number, string], { messageId: string }>(
      `SELECT message_id AS messageId FROM discord_messages WHERE issue_id = ? AND webhook_id = ?`,
    );
    this.saveMessage = db.prepare<[number, string, string, string]>(`
      INSERT INTO discord_messages (issue_id, webhook_id, message_id, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (issue_id) DO UPDATE SET webhook_id = excluded.webhook_id, message_id = excluded.message_id, updated_at = excluded.updated_at`);
    this.upsertChannel = db.prepare<[string, string]>(`
      INSERT INTO notify_channels (kind, webhook_id, created_at) VALUES ('discord', ?, ?)
      ON CONFLICT (kind) DO UPDATE SET webhook_id = excluded.webhook_id, created_at = excluded.created_at`);
    this.deleteChannel = db.prepare(`DELETE FROM notify_channels WHERE kind = 'discord'`);
    this.dropDiscord = db.prepare(`DELETE FROM outbox WHERE kind = 'discord' AND state != 'done'`);
    this.linked = db.prepare<[number, number, string], { ok: number }>(
      `SELECT 1 AS ok FROM links WHERE issue_id = ? AND integration_id = ? AND external_key = ?`,
    );
    this.unsentTotal = db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM outbox WHERE state != 'done'`);
    this.tally = db.prepare<[], { kind: OutboxKind; state: OutboxState; n: number }>(`SELECT kind, state, COUNT(*) AS n FROM outbox GROUP BY kind, state`);
  }

  /**
   * Queues what the committed-to-be changes cause, in the caller's transaction: a push per link
   * whose organization enables outbound for the field (rule 7.1) except to the integration the
   * change came from (7.2), and a Discord notification per assignee change (8.1). Unsent rows of
   * the same field go: the newer change supersedes them, and the origin already holds its value.
   */
  enqueue(changes: readonly Change[], origin: Origin): number[] {
    const queued: number[] = [];
    let notify: boolean | undefined;
    for (const change of changes) {
      const issueId = change.issueId;
      const payload = JSON.stringify({ to: change.to, from: change.from, via: origin.via } satisfies OutboxPayload);
      const add = (kind: OutboxKind, integrationId: number | null, externalKey: string | null) =>
        queued.push(insertWithId(this.ids, "outbox", (id) => this.insert.run(id, kind, issueId, integrationId, externalKey, payload, origin.at, origin.at)));
      if (change.field === "assignee") this.supersede.run(issueId, "assignee", "discord");
      else this.supersede.run(issueId, "status", "status");
      // Applying a payload creates no link, setting or channel: what these read holds for the batch.
      const targets = this.memo.get(`targets:${issueId}:${origin.integrationId}:${change.field}`, () =>
        this.targets.all(issueId, origin.integrationId, change.field),
      );
      for (const t of targets) add(change.field, t.integrationId, t.externalKey);
      if (change.field === "assignee" && (notify ??= this.memo.get("discord-channel", () => this.channelRow.get()) !== undefined)) add("discord", null, null);
    }
    return queued;
  }

  get(id: number): OutboxRow | undefined {
    const row = this.oneRow.get(id);
    return row && parse(row);
  }

  list(state?: OutboxState): OutboxRow[] {
    return this.rows.all(state ?? null, state ?? null).map(parse);
  }

  /**
   * Takes the oldest row the sender may send now for one attempt (counted), until the lease ends;
   * undefined when there is none. Of two senders, only one gets a row.
   */
  claimNext(c: NextClaim): OutboxRow | undefined {
    const { due, skip, ...rest } = c;
    const won = (due ? this.claimDue : this.claimAny).get({ ...rest, skip: JSON.stringify(skip) });
    return won && this.get(won.id);
  }

  /** Takes one named unsent row, as claimNext does by hand; false when another sender holds it or an older one of its target. */
  claim(id: number, c: Claim): boolean {
    return this.claimId.get({ ...c, id }) !== undefined;
  }

  /** Whether a push's link still exists: one unlinked since it was queued must not be sent. */
  stillLinked(row: Pick<OutboxRow, "issueId" | "integrationId" | "externalKey">): boolean {
    return row.integrationId === null || this.linked.get(row.issueId, row.integrationId, row.externalKey!) !== undefined;
  }

  /** Sent: done, the claim released. */
  done(id: number, by: string, at: string): void {
    this.markDone.run({ id, by, at });
  }

  /**
   * Not sent: the claim released, the error and the next attempt kept; 'failed' (given up) once
   * its first failure is older than giveUpBefore, else still 'pending'. Returns the state.
   */
  failed(id: number, by: string, f: Failure, now: number, at: string): OutboxState | undefined {
    return this.markFailed.get({ ...f, id, by, now, at })?.state;
  }

  /** Gives up on an unsent row; false when there is no such unsent row. */
  discard(id: number): boolean {
    return this.remove.run(id).changes === 1;
  }

  discordMessage(issueId: number, webhookId: string): string | undefined {
    return this.message.get(issueId, webhookId)?.messageId;
  }

  rememberDiscordMessage(issueId: number, webhookId: string, messageId: string, at: string): void {
    this.saveMessage.run(issueId, webhookId, messageId, at);
  }

  discordChannel(): { webhookId: string } | undefined {
    return this.channelRow.get();
  }

  setDiscordChannel(webhookId: string, at: string): void {
    this.upsertChannel.run(webhookId, at);
  }

  /** Notifications off: the channel goes, and so do the notifications not sent yet. Returns how many. */
  clearDiscordChannel(): number {
    this.deleteChannel.run();
    return this.dropDiscord.run().changes;
  }

  unsentCount(): number {
    return this.unsentTotal.get()!.n;
  }

  counts(): Record<OutboxKind, Record<OutboxState, number>> {
    const zero = () => ({ pending: 0, done: 0, failed: 0 });
    const out: Record<OutboxKind, Record<OutboxState, number>> = { assignee: zero(), status: zero(), discord: zero() };
    for (const r of this.tally.all()) out[r.kind][r.state] = r.n;
    return out;
  }
}
