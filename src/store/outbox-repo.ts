import type { Change } from "../engine/types.js";
import type { ProviderName } from "../providers/types.js";
import { insertWithId, type SnowflakeIds } from "./ids.js";
import type { Dialect, Sql } from "./sql.js";

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
// Parameter: now.
const FREE = (claimedUntil: string) => `(${claimedUntil} IS NULL OR ${claimedUntil} <= ?)`;
// An older unsent row of the same target: the same external issue of the same integration, or for
// a notification the same local issue. `extra` narrows what holds a row back; it appears twice.
const OLDER = (extra: string) => `
  NOT EXISTS (SELECT 1 FROM outbox b WHERE o.kind != 'discord' AND b.state != 'done' AND b.id < o.id
              AND b.integration_id = o.integration_id AND b.external_key = o.external_key ${extra})
  AND NOT EXISTS (SELECT 1 FROM outbox b WHERE o.kind = 'discord' AND b.state != 'done' AND b.id < o.id
              AND b.kind = 'discord' AND b.issue_id = o.issue_id ${extra})`;
// Parameters: by, now.
const IN_FLIGHT = `AND b.claimed_by != ? AND b.claimed_until > ?`;
/**
 * Ends the SELECT that picks the row to claim: the one place the dialects differ here. SQLite has
 * no FOR UPDATE and needs none: one writer at a time holds the database, so two claims never
 * overlap. PostgreSQL runs senders at once: the pick locks the row it takes and skips rows another
 * sender's pick holds, so no row is claimed twice, and a sender neither waits for another's claim
 * to commit nor then finds its row taken and comes back empty while other rows are free.
 */
const LOCK: Record<Dialect, string> = { sqlite: "", postgres: "FOR UPDATE SKIP LOCKED" };
// One statement a single sender wins: the inner SELECT picks, the outer WHERE checks the claim is
// still free. Parameters: by, until, at, the pick's, now.
const CLAIM = (pick: string) => `
  UPDATE outbox SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1, updated_at = ?
  WHERE id = (${pick}) AND state != 'done' AND ${FREE("claimed_until")}
  RETURNING id`;
// The paused integrations' rows wait: a NOT IN list of one placeholder per paused integration, no
// clause when none is (SQLite's json_each has no PostgreSQL twin, and a parameter is never an
// array). Parameters: after, now, the paused integrations, the condition's.
const PICK = (where: string, skipped: number, lock: string) => `
  SELECT o.id FROM outbox o
  WHERE o.id > ? AND ${FREE("o.claimed_until")}
    ${skipped === 0 ? "" : `AND (o.integration_id IS NULL OR o.integration_id NOT IN (${Array(skipped).fill("?").join(", ")}))`}
    AND ${where}
  ORDER BY o.id LIMIT 1 ${lock}`;
// Parameters: now.
const DUE = `o.state = 'pending' AND o.next_attempt_at <= ? AND ${OLDER("")}`;
// Parameters: by, now, by, now.
const ANY = `o.state != 'done' AND ${OLDER(IN_FLIGHT)}`;
// claim's statement by dialect. Parameters: by, until, at, id, by, now, by, now, now.
const claimId = (lock: string) => CLAIM(`SELECT o.id FROM outbox o WHERE o.id = ? AND ${OLDER(IN_FLIGHT)} ${lock}`);
const CLAIM_ID: Record<Dialect, string> = { sqlite: claimId(LOCK.sqlite), postgres: claimId(LOCK.postgres) };
/**
 * claimNext's statements by dialect, schedule or by hand, and how many integrations are paused:
 * each text made once, so the backend's prepared statements (cached by text) are reused. Few
 * integrations pause at once, so few texts are ever made.
 */
const claimNextTexts = new Map<string, string>();
const claimNextText = (dialect: Dialect, due: boolean, skipped: number): string => {
  const key = `${dialect}:${due}:${skipped}`;
  let text = claimNextTexts.get(key);
  if (text === undefined) claimNextTexts.set(key, (text = CLAIM(PICK(due ? DUE : ANY, skipped, LOCK[dialect]))));
  return text;
};

// The unsent rows a newer change of their field makes pointless, but for one a sender has in
// flight: it finishes, and the newer waits behind it (due) or for it (by hand), so the tracker
// never gets the two at once, in either order (a send that waits out a 503 could land last).
// Parameters: issue, the two kinds, now.
const SUPERSEDED = `issue_id = ? AND kind IN (?, ?) AND state != 'done' AND ${FREE("claimed_until")}`;
const SUPERSEDE = `DELETE FROM outbox WHERE ${SUPERSEDED}`;
// A newer change of the row's field to its issue (activity ids and outbox ids come from one
// generator, in time order): the row's value is no longer the issue's, even when that change
// queued no row for the row's tracker (it came from there).
const NEWER_CHANGE = (o: string) => `
  EXISTS (SELECT 1 FROM activity a WHERE a.issue_id = ${o}.issue_id AND a.id > ${o}.id
          AND a.kind IN (CASE ${o}.kind WHEN 'status' THEN 'resolved' ELSE 'assigned' END,
                         CASE ${o}.kind WHEN 'status' THEN 'unresolved' ELSE 'unassigned' END))`;
const OUTDATED = `SELECT 1 AS yes FROM outbox o WHERE o.id = ? AND ${NEWER_CHANGE("o")}`;
// What one change queues, in one read of one row (on PostgreSQL a statement is a round trip; a
// join of the three took SQLite 60% longer than this one row): whether unsent rows are there to
// supersede, the Discord channel, and the links whose organization pushes this field to their
// integration, the origin left out (IS DISTINCT FROM: a change from the CLI, origin null, leaves
// none out), as "integration key" lines in order (string_agg: both dialects; keys hold no line
// break, and a key is what follows the first space). Parameters: SUPERSEDED's, issue, origin, field.
const PLAN = `
  SELECT (SELECT COUNT(*) FROM outbox WHERE ${SUPERSEDED}) AS unsent,
         (SELECT webhook_id FROM notify_channels WHERE kind = 'discord') AS channel,
         (SELECT string_agg(CAST(l.integration_id AS TEXT) || ' ' || l.external_key, '
' ORDER BY l.integration_id, l.external_key)
          FROM issues i
          JOIN projects p ON p.id = i.project_id
          JOIN links l ON l.issue_id = i.id
          JOIN integration_organizations io ON io.integration_id = l.integration_id AND io.organization_id = p.organization_id
          JOIN sync_settings s ON s.integration_id = l.integration_id AND s.organization_id = p.organization_id
          WHERE i.id = ? AND l.integration_id IS DISTINCT FROM ?
            AND (CASE ? WHEN 'assignee' THEN s.outbound_assignee ELSE s.outbound_status END) = 1) AS targets`;
const INSERT = `
  INSERT INTO outbox (id, kind, issue_id, integration_id, external_key, payload, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO NOTHING`;
const CHANNEL = `SELECT webhook_id AS webhookId FROM notify_channels WHERE kind = 'discord'`;
const ONE = `${SELECT} WHERE o.id = ?`;
// The state, or every row when it is null (the column is never null): `? IS NULL` alone leaves
// PostgreSQL unable to tell the parameter's type.
const ROWS = `${SELECT} WHERE o.state = COALESCE(?, o.state) ORDER BY o.id`;
// Parameters: id, by.
const MINE = `WHERE id = ? AND claimed_by = ?`;
// Parameters: at, id, by.
const MARK_DONE = `UPDATE outbox SET state = 'done', last_error = NULL, claimed_by = NULL, claimed_until = NULL, updated_at = ? ${MINE}`;
// Parameters: error, nextAttemptAt, now, now, giveUpBefore, at, id, by.
const MARK_FAILED = `
  UPDATE outbox SET last_error = ?, next_attempt_at = ?, failing_since = COALESCE(failing_since, ?),
    state = CASE WHEN COALESCE(failing_since, ?) <= ? THEN 'failed' ELSE 'pending' END,
    claimed_by = NULL, claimed_until = NULL, updated_at = ?
  ${MINE} RETURNING state`;
const REMOVE = `DELETE FROM outbox WHERE id = ? AND state != 'done'`;
// A failed row a newer change made outdated while it was in flight: it is not tried again. Parameters: id, by.
const DROP_OUTDATED = `DELETE FROM outbox ${MINE} AND ${NEWER_CHANGE("outbox")}`;
const MESSAGE = `SELECT message_id AS messageId FROM discord_messages WHERE issue_id = ? AND webhook_id = ?`;
const SAVE_MESSAGE = `
  INSERT INTO discord_messages (issue_id, webhook_id, message_id, updated_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (issue_id) DO UPDATE SET webhook_id = excluded.webhook_id, message_id = excluded.message_id, updated_at = excluded.updated_at`;
const UPSERT_CHANNEL = `
  INSERT INTO notify_channels (kind, webhook_id, created_at) VALUES ('discord', ?, ?)
  ON CONFLICT (kind) DO UPDATE SET webhook_id = excluded.webhook_id, created_at = excluded.created_at`;
const DELETE_CHANNEL = `DELETE FROM notify_channels WHERE kind = 'discord'`;
const DROP_DISCORD = `DELETE FROM outbox WHERE kind = 'discord' AND state != 'done'`;
const LINKED = `SELECT 1 AS ok FROM links WHERE issue_id = ? AND integration_id = ? AND external_key = ?`;
const UNSENT_TOTAL = `SELECT COUNT(*) AS n FROM outbox WHERE state != 'done'`;
const TALLY = `SELECT kind, state, COUNT(*) AS n FROM outbox GROUP BY kind, state`;

/**
 * The outbox (rule 7.3): pushes and notifications written in the transaction of the change that
 * causes them, sent after commit, each result recorded in a transaction of its own.
 */
export class OutboxRepo {
  constructor(
    private readonly sql: Sql,
    private readonly ids: SnowflakeIds,
  ) {}

  /**
   * Queues what the committed-to-be changes cause, in the caller's transaction: a push per link
   * whose organization enables outbound for the field (rule 7.1) except to the integration the
   * change came from (7.2), and a Discord notification per assignee change (8.1). Unsent rows of
   * the same field go: the newer change supersedes them, and the origin already holds its value.
   */
  async enqueue(changes: readonly Change[], origin: Origin): Promise<number[]> {
    const queued: number[] = [];
    for (const change of changes) {
      const issueId = change.issueId;
      const payload = JSON.stringify({ to: change.to, from: change.from, via: origin.via } satisfies OutboxPayload);
      const add = async (kind: OutboxKind, integrationId: number | null, externalKey: string | null) => {
        const values = (id: number) => [id, kind, issueId, integrationId, externalKey, payload, origin.at, origin.at];
        queued.push(await insertWithId(this.ids, "outbox", (id) => this.sql.run(INSERT, values(id))));
      };
      const superseded = [issueId, ...(change.field === "assignee" ? ["assignee", "discord"] : ["status", "status"]), Date.parse(origin.at)];
      const plan = (await this.sql.get<{ unsent: number; channel: string | null; targets: string | null }>(PLAN, [...superseded, issueId, origin.integrationId, change.field]))!;
      if (plan.unsent > 0) await this.sql.run(SUPERSEDE, superseded);
      for (const line of plan.targets?.split("\n") ?? []) {
        const space = line.indexOf(" ");
        await add(change.field, Number(line.slice(0, space)), line.slice(space + 1));
      }
      if (change.field === "assignee" && plan.channel !== null) await add("discord", null, null);
    }
    return queued;
  }

  async get(id: number): Promise<OutboxRow | undefined> {
    const row = await this.sql.get<RawRow>(ONE, [id]);
    return row && parse(row);
  }

  async list(state?: OutboxState): Promise<OutboxRow[]> {
    return (await this.sql.all<RawRow>(ROWS, [state ?? null])).map(parse);
  }

  /**
   * Takes the oldest row the sender may send now for one attempt (counted), until the lease ends;
   * undefined when there is none. Of two senders, only one gets a row.
   */
  async claimNext(c: NextClaim): Promise<OutboxRow | undefined> {
    const { by, now, until, at, due, after, skip } = c;
    const condition = due ? [now] : [by, now, by, now];
    const text = claimNextText(this.sql.dialect, due, skip.length);
    const won = await this.sql.get<{ id: number }>(text, [by, until, at, after, now, ...skip, ...condition, now]);
    return won && this.get(won.id);
  }

  /** Takes one named unsent row, as claimNext does by hand; false when another sender holds it or an older one of its target. */
  async claim(id: number, c: Claim): Promise<boolean> {
    const { by, now, until, at } = c;
    return (await this.sql.get<{ id: number }>(CLAIM_ID[this.sql.dialect], [by, until, at, id, by, now, by, now, now])) !== undefined;
  }

  /**
   * Whether a newer change of the row's field came after it: a row left in flight by a sender that
   * died, then claimed again, must not send a value the issue no longer has.
   */
  async outdated(id: number): Promise<boolean> {
    return (await this.sql.get<{ yes: number }>(OUTDATED, [id])) !== undefined;
  }

  /** Whether a push's link still exists: one unlinked since it was queued must not be sent. */
  async stillLinked(row: Pick<OutboxRow, "issueId" | "integrationId" | "externalKey">): Promise<boolean> {
    return row.integrationId === null || (await this.sql.get<{ ok: number }>(LINKED, [row.issueId, row.integrationId, row.externalKey!])) !== undefined;
  }

  /** Sent: done, the claim released. */
  async done(id: number, by: string, at: string): Promise<void> {
    await this.sql.run(MARK_DONE, [at, id, by]);
  }

  /**
   * Not sent: the claim released, the error and the next attempt kept; 'failed' (given up) once
   * its first failure is older than giveUpBefore, else still 'pending'. Returns the state;
   * undefined when the row is gone: a newer change of its field made it outdated meanwhile.
   */
  async failed(id: number, by: string, f: Failure, now: number, at: string): Promise<OutboxState | undefined> {
    if ((await this.sql.run(DROP_OUTDATED, [id, by])) > 0) return undefined;
    return (await this.sql.get<{ state: OutboxState }>(MARK_FAILED, [f.error, f.nextAttemptAt, now, now, f.giveUpBefore, at, id, by]))?.state;
  }

  /** Gives up on an unsent row; false when there is no such unsent row. */
  async discard(id: number): Promise<boolean> {
    return (await this.sql.run(REMOVE, [id])) === 1;
  }

  async discordMessage(issueId: number, webhookId: string): Promise<string | undefined> {
    return (await this.sql.get<{ messageId: string }>(MESSAGE, [issueId, webhookId]))?.messageId;
  }

  async rememberDiscordMessage(issueId: number, webhookId: string, messageId: string, at: string): Promise<void> {
    await this.sql.run(SAVE_MESSAGE, [issueId, webhookId, messageId, at]);
  }

  discordChannel(): Promise<{ webhookId: string } | undefined> {
    return this.sql.get<{ webhookId: string }>(CHANNEL);
  }

  async setDiscordChannel(webhookId: string, at: string): Promise<void> {
    await this.sql.run(UPSERT_CHANNEL, [webhookId, at]);
  }

  /** Notifications off: the channel goes, and so do the notifications not sent yet. Returns how many. */
  async clearDiscordChannel(): Promise<number> {
    await this.sql.run(DELETE_CHANNEL);
    return this.sql.run(DROP_DISCORD);
  }

  async unsentCount(): Promise<number> {
    return (await this.sql.get<{ n: number }>(UNSENT_TOTAL))!.n;
  }

  async counts(): Promise<Record<OutboxKind, Record<OutboxState, number>>> {
    const zero = () => ({ pending: 0, done: 0, failed: 0 });
    const out: Record<OutboxKind, Record<OutboxState, number>> = { assignee: zero(), status: zero(), discord: zero() };
    for (const r of await this.sql.all<{ kind: OutboxKind; state: OutboxState; n: number }>(TALLY)) out[r.kind][r.state] = r.n;
    return out;
  }
}
