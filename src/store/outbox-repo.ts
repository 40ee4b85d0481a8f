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
         o.last_error AS lastError, o.created_at AS createdAt, o.updated_at AS updatedAt
  FROM outbox o JOIN issues i ON i.id = o.issue_id LEFT JOIN integrations g ON g.id = o.integration_id`;

const parse = (r: RawRow): OutboxRow => ({ ...r, payload: JSON.parse(r.payload) as OutboxPayload });

/**
 * The outbox (rule 7.3): pushes and notifications written in the transaction of the change that
 * causes them, sent after commit, each result recorded in a transaction of its own.
 */
export class OutboxRepo {
  private readonly issueId;
  private readonly supersede;
  private readonly targets;
  private readonly insert;
  private readonly channelRow;
  private readonly unsentRows;
  private readonly oneRow;
  private readonly rows;
  private readonly claimRow;
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
    this.issueId = db.prepare<[string], { id: number }>(`SELECT id FROM issues WHERE key = ?`);
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
    this.unsentRows = db.prepare<[], RawRow>(`${SELECT} WHERE o.state != 'done' ORDER BY o.id`);
    this.oneRow = db.prepare<[number], RawRow>(`${SELECT} WHERE o.id = ?`);
    this.rows = db.prepare<[string | null, string | null], RawRow>(`${SELECT} WHERE (? IS NULL OR o.state = ?) ORDER BY o.id`);
    this.claimRow = db.prepare<[string, number, number]>(
      `UPDATE outbox SET attempts = attempts + 1, updated_at = ? WHERE id = ? AND attempts = ? AND state != 'done'`,
    );
    this.markDone = db.prepare<[string, number]>(`UPDATE outbox SET state = 'done', last_error = NULL, updated_at = ? WHERE id = ?`);
    this.markFailed = db.prepare<[string, string, number]>(`UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ? WHERE id = ?`);
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
      // Applying a payload creates no issue, link, setting or channel: what these read holds for the batch.
      const issue = this.memo.get(`issue-id:${change.issue}`, () => this.issueId.get(change.issue));
      if (!issue) continue;
      const payload = JSON.stringify({ to: change.to, from: change.from, via: origin.via } satisfies OutboxPayload);
      const add = (kind: OutboxKind, integrationId: number | null, externalKey: string | null) =>
        queued.push(insertWithId(this.ids, "outbox", (id) => this.insert.run(id, kind, issue.id, integrationId, externalKey, payload, origin.at, origin.at)));
      if (change.field === "assignee") this.supersede.run(issue.id, "assignee", "discord");
      else this.supersede.run(issue.id, "status", "status");
      const targets = this.memo.get(`targets:${issue.id}:${origin.integrationId}:${change.field}`, () =>
        this.targets.all(issue.id, origin.integrationId, change.field),
      );
      for (const t of targets) add(change.field, t.integrationId, t.externalKey);
      if (change.field === "assignee" && (notify ??= this.memo.get("discord-channel", () => this.channelRow.get()) !== undefined)) add("discord", null, null);
    }
    return queued;
  }

  /** Everything not yet done, oldest first: the order the changes were made in. */
  unsent(): OutboxRow[] {
    return this.unsentRows.all().map(parse);
  }

  get(id: number): OutboxRow | undefined {
    const row = this.oneRow.get(id);
    return row && parse(row);
  }

  list(state?: OutboxState): OutboxRow[] {
    return this.rows.all(state ?? null, state ?? null).map(parse);
  }

  /**
   * Takes the row for one attempt. Compare-and-set on attempts: of two senders that read the same
   * row, one gets it and the other leaves it alone.
   */
  claim(row: Pick<OutboxRow, "id" | "attempts">, at: string): boolean {
    return this.claimRow.run(at, row.id, row.attempts).changes === 1;
  }

  /** Whether a push's link still exists: one unlinked since it was queued must not be sent. */
  stillLinked(row: Pick<OutboxRow, "issueId" | "integrationId" | "externalKey">): boolean {
    return row.integrationId === null || this.linked.get(row.issueId, row.integrationId, row.externalKey!) !== undefined;
  }

  done(id: number, at: string): void {
    this.markDone.run(at, id);
  }

  failed(id: number, error: string, at: string): void {
    this.markFailed.run(error, at, id);
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
