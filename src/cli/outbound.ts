import { type Command, Option } from "commander";
import { PartialFailure } from "../errors.js";
import { table } from "../io/style.js";
import type { OutboxKind, OutboxRow, OutboxState, Via } from "../store/outbox-repo.js";
import type { Context, ContextFactory } from "./context.js";
import { wholeNumber } from "./numbers.js";
import type { PushFlags } from "../outbound/command-sender.js";
import { runOutboundDiscard, runOutboundRetry } from "../outbound/by-hand.js";
import { renderPushes } from "./render-push.js";
import { shortId } from "./short-id.js";
import { addPushOptions, examples } from "./options.js";

/** `outbound list --json`, one per row. */
export interface OutboxView {
  id: number;
  kind: OutboxKind;
  issue: string;
  /** The integration's externalId, or "discord". */
  integration: string;
  externalKey: string | null;
  to: string | null;
  from: string | null;
  via: Via;
  state: OutboxState;
  attempts: number;
  error: string | null;
  /** When serve's drain tries it next; null once done or given up. */
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const view = (r: OutboxRow): OutboxView => ({
  id: r.id,
  kind: r.kind,
  issue: r.issue,
  integration: r.integration ?? "discord",
  externalKey: r.externalKey,
  to: r.payload.to,
  from: r.payload.from,
  via: r.payload.via,
  state: r.state,
  attempts: r.attempts,
  error: r.lastError,
  nextAttemptAt: r.state === "pending" ? new Date(r.nextAttemptAt).toISOString() : null,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

export async function runOutboundList(ctx: Context, state?: OutboxState): Promise<OutboxView[]> {
  const store = await ctx.store();
  return (await store.outbox.list(state)).map(view);
}

/** Collects row ids, each a usage error when it is not one. */
const ids = (v: string, all: number[] = []): number[] => [...all, wholeNumber(1)(v)];

function describe(v: OutboxView): string {
  if (v.kind === "discord") return `notify: ${v.to === null ? "unassigned" : `assigned to ${v.to}`}`;
  return `${v.kind} -> ${v.to ?? "(none)"}`;
}

function renderList(ctx: Context, rows: OutboxView[]): void {
  if (rows.length === 0) return ctx.out.text("the outbox is empty");
  const s = ctx.style;
  const state = (v: OutboxView) => (v.state === "done" ? s.green("done") : v.state === "failed" ? s.red("failed") : s.yellow("pending"));
  ctx.out.text(
    table(
      rows.map((v) => [
        String(v.id),
        s.bold(v.issue),
        describe(v),
        v.kind === "discord" ? "Discord" : `${shortId(v.integration)} ${v.externalKey}`,
        `${state(v)}${v.attempts ? s.dim(` x${v.attempts}`) : ""}`,
        v.error ?? s.dim("-"),
      ]),
      ["ID", "ISSUE", "PUSH", "TO", "STATE", "LAST ERROR"],
      s,
    ),
  );
}

export function defineOutbound(program: Command, context: ContextFactory): void {
  const outbound = program
    .command("outbound")
    .description("pushes to the trackers and Discord notifications waiting in the outbox (serve sends them on a schedule; retry sends them now)")
    .addHelpText("after", examples("hooksync outbound list --failed", "hooksync outbound send"));
  outbound
    .command("list")
    .description("every push and notification with its state: pending (waiting for its next attempt), failed (given up after 3 days) or done")
    .addHelpText("after", examples("hooksync outbound list", "hooksync outbound list --failed --json"))
    .addOption(new Option("--state <state>", "only these").choices(["pending", "failed", "done"]))
    .addOption(new Option("--failed", "only those given up (--state failed)").conflicts("state"))
    .action(async (opts: { state?: OutboxState; failed?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      const rows = await runOutboundList(ctx, opts.failed ? "failed" : opts.state);
      if (ctx.json) ctx.out.json(rows);
      else renderList(ctx, rows);
    });
  addPushOptions(
    outbound
      .command("retry")
      .alias("send")
      .description("send every pending and failed push and notification, oldest first")
      .addHelpText("after", examples("hooksync outbound retry", "hooksync outbound send --id <id>"))
      .option("--id <id...>", "only these rows (see 'hooksync outbound list')", ids),
  ).action(async (opts: PushFlags & { id?: number[] }, cmd: Command) => {
    const ctx = context(cmd);
    const results = await runOutboundRetry(ctx, opts);
    if (ctx.json) ctx.out.json(results);
    else if (results.length === 0) ctx.out.text("nothing to send");
    renderPushes(ctx, ctx.json ? results.filter((r) => !r.ok) : results);
    const failed = results.filter((r) => !r.ok).length;
    if (failed > 0) throw new PartialFailure(`${failed} of ${results.length} pushes failed`, "each says why above");
  });
  outbound
    .command("discard")
    .description("give up on unsent pushes or notifications (the local change stays)")
    .addHelpText("after", examples("hooksync outbound discard <id>"))
    .argument("<id...>", "outbox row ids (see 'hooksync outbound list')", ids)
    .action(async (rows: number[], _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const gone = await runOutboundDiscard(ctx, rows);
      if (ctx.json) ctx.out.json({ discarded: gone });
      else ctx.out.text(`discarded ${gone.join(", ")}`);
    });
}
