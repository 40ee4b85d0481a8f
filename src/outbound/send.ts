import type { Deps } from "../deps.js";
import { HooksyncError, UpstreamError } from "../errors.js";
import { withoutSecrets } from "../http/errors.js";
import type { Claim, OutboxKind, OutboxRow } from "../store/outbox-repo.js";
import type { Store } from "../store/store.js";
import { GIVE_UP_MS, LEASE_MS, nextAttemptAt } from "./schedule.js";
import type { Senders } from "./senders.js";

/** One row's attempt, as `--json` shows it. */
export interface PushResult {
  id: number;
  kind: OutboxKind;
  issue: string;
  /** The integration's externalId, or "discord". */
  integration: string;
  externalKey: string | null;
  ok: boolean;
  /** What the tracker was asked to do and did. */
  detail: string | null;
  error: string | null;
}

/** One sender: a process (or serve's drain) sending rows under its own claims. */
export interface Sender {
  /** Random, per sender: what claimed_by holds. */
  id: string;
  store: Store;
  senders: Senders;
  clock: Pick<Deps, "now" | "randomBytes">;
}

export const senderId = (deps: Pick<Deps, "randomBytes">): string => deps.randomBytes(8).toString("hex");

const random = (s: Sender) => s.clock.randomBytes(4).readUInt32BE(0) / 2 ** 32;

function claimNow(s: Sender): Claim {
  const now = s.clock.now();
  return { by: s.id, now: now.getTime(), until: now.getTime() + LEASE_MS, at: now.toISOString() };
}

const target = (row: OutboxRow) => ({ id: row.id, kind: row.kind, issue: row.issue, integration: row.integration ?? "discord", externalKey: row.externalKey });

const errorLine = (err: HooksyncError) => `${err.message}${err.hint ? ` (${err.hint})` : ""}`;

/**
 * Sends a claimed row, then records done, or the error with the next attempt (given up after
 * three days), in a transaction of its own: none spans the call, and a crash leaves the row to be
 * claimed again once the lease ends.
 */
export async function attempt(s: Sender, row: OutboxRow): Promise<PushResult> {
  const base = target(row);
  try {
    const sent = await s.senders.send(row);
    const at = s.clock.now().toISOString();
    await s.store.inTransaction(async (tx) => {
      await sent.record?.(tx, at);
      await tx.outbox.done(row.id, s.id, at);
    });
    return { ...base, ok: true, detail: sent.detail, error: null };
  } catch (err) {
    if (!(err instanceof HooksyncError)) throw err;
    const error = withoutSecrets(errorLine(err), s.senders.secrets);
    const now = s.clock.now();
    const next = nextAttemptAt(now.getTime(), row.attempts, () => random(s), err instanceof UpstreamError ? err.retryAfterMs : undefined);
    await s.store.outbox.failed(row.id, s.id, { error, nextAttemptAt: next, giveUpBefore: now.getTime() - GIVE_UP_MS }, now.getTime(), now.toISOString());
    return { ...base, ok: false, detail: null, error };
  }
}

/** The named rows, in order (a local change's pushes, `outbound retry --id`). */
export async function sendRows(s: Sender, rows: OutboxRow[]): Promise<PushResult[]> {
  const results: PushResult[] = [];
  for (const row of rows) {
    if (await s.store.outbox.claim(row.id, claimNow(s))) {
      results.push(await attempt(s, { ...row, attempts: row.attempts + 1 }));
      continue;
    }
    const base = target(row);
    const now = await s.store.outbox.get(row.id);
    if (now === undefined) results.push({ ...base, ok: true, detail: "superseded by a newer change", error: null });
    else if (now.state === "done") results.push({ ...base, ok: true, detail: "sent by another hooksync process", error: null });
    else results.push({ ...base, ok: false, detail: null, error: "another hooksync process is sending it" });
  }
  return results;
}

/**
 * By hand (`outbound send`): every unsent row, pending or given up, oldest first, whatever the
 * schedule says, each tried once. Rows another sender holds are its business, not in the result.
 */
export async function sendAll(s: Sender): Promise<PushResult[]> {
  const results: PushResult[] = [];
  for (let after = 0; ; ) {
    const row = await s.store.outbox.claimNext({ ...claimNow(s), due: false, after, skip: [] });
    if (!row) return results;
    after = row.id;
    results.push(await attempt(s, row));
  }
}

/** The schedule (serve's drain): the rows due now, each reported as it ends, until none is left or stopped() says so. */
export async function sendDue(s: Sender, stopped: () => boolean, each: (result: PushResult) => void): Promise<void> {
  while (!stopped()) {
    const claim = claimNow(s);
    const row = await s.store.outbox.claimNext({ ...claim, due: true, after: 0, skip: await s.senders.throttled(claim.now) });
    if (!row) return;
    each(await attempt(s, row));
  }
}
