import { type Command, Option } from "commander";
import { PartialFailure, UsageError } from "../errors.js";
import { LineWriter } from "../io/writer.js";
import { Progress } from "../io/progress.js";
import type { ProviderName } from "../providers/types.js";
import type { Context, ContextFactory } from "./context.js";
import { wholeNumber } from "./numbers.js";
import { count, emptyTotals, outcomeJson, outcomeLine, reportOne, type Totals } from "./render-outcome.js";
import { noteQueued } from "./render-push.js";
import { reportSent } from "./render-sent.js";
import { integrationOption, dryRunOption, examples } from "./options.js";

export interface ReplayOptions {
  provider?: ProviderName;
  integration?: string;
  dryRun?: boolean;
  ignoreOrder?: boolean;
}

/** Streams every payload of the inputs through the pipeline, a line each, then the totals. */
export async function runReplay(ctx: Context, inputs: string[], opts: ReplayOptions): Promise<Totals> {
  const { io } = ctx.deps;
  const { resolveInputs } = await import("../pipeline/input-sources.js");
  const { replayBatches } = await import("../pipeline/replay.js");
  const sources = await resolveInputs(inputs, io.stdin, io.cwd);
  if (sources.some((s) => s.label === "stdin") && io.stdinIsTTY) {
    throw new UsageError("replay - reads payloads from stdin, but stdin is a terminal", "pipe payloads in, or name files");
  }
  const store = await ctx.store();
  const unsentBefore = await store.outbox.unsentCount();
  const writer = new LineWriter(io.stdout);
  const totalBytes = sources.every((s) => s.size !== null) ? sources.reduce((n, s) => n + (s.size ?? 0), 0) : null;
  const progress = io.stderrIsTTY && !ctx.opts.quiet ? new Progress(io.stderr, totalBytes) : null;
  const totals = emptyTotals();
  let bytes = 0;
  let n = 0;
  const started = performance.now();
  const on = { bytes: (b: number) => (bytes += b), note: (line: string) => ctx.out.verbose(line) };
  for await (const outcomes of replayBatches(store, ctx.deps, sources, { source: "replay", ...opts }, on)) {
    for (const outcome of outcomes) {
      count(totals, outcome);
      n++;
      if (ctx.json) await writer.line(outcomeJson(outcome));
      else if (!ctx.opts.quiet) {
        progress?.clear();
        await writer.line(outcomeLine(outcome, ctx.style));
      }
    }
    progress?.update(bytes, n);
  }
  await writer.flush();
  progress?.clear();
  const seconds = (performance.now() - started) / 1000;
  const summary =
    `${opts.dryRun ? "dry run, nothing written: " : ""}${n} payload${n === 1 ? "" : "s"}: ` +
    `${totals.applied} applied, ${totals.ignored} ignored, ${totals.rejected} rejected; ` +
    `${totals.changes} change${totals.changes === 1 ? "" : "s"} in ${seconds.toFixed(2)}s`;
  ctx.out.info(summary);
  await noteQueued(ctx, store, unsentBefore);
  if (totals.rejected > 0) {
    throw new PartialFailure(`${totals.rejected} of ${n} payloads were rejected`, "each has its reason above");
  }
  return totals;
}

export interface ReplayDeliveryOptions {
  dryRun?: boolean;
  ignoreOrder?: boolean;
  send?: string;
  unverified?: boolean;
}

/**
 * Rule 6.3: a delivery recorded by serve, through the engine again (no redelivery check), or its
 * exact bytes to a receiver with fresh auth. The original identity header goes along, so a
 * receiver that already applied it treats the copy as the redelivery it is.
 */
export async function runReplayDelivery(ctx: Context, id: number, opts: ReplayDeliveryOptions): Promise<void> {
  const store = await ctx.store();
  const d = await store.deliveries.get(id);
  if (!d) throw new UsageError(`no delivery ${id}`, "see 'hooksync deliveries'");
  const refused = `${d.verdict ?? "no answer"}: ${d.reason ?? ""}`;
  if (d.prunedAt) throw new UsageError(`delivery ${id} was pruned on ${d.prunedAt}: its body is gone`, "only its outcome and changes are kept; serve --retain keeps deliveries longer");
  if (d.body === null) throw new UsageError(`delivery ${id} has no body to replay (${refused})`, "the receiver did not read it");
  if (opts.send) {
    const integration = d.integration === null ? undefined : await store.integrations.byExternalId(d.integration);
    if (!d.provider || !integration) {
      throw new UsageError(`delivery ${id} names no integration of this store to sign it for (${refused})`, "only authenticated deliveries can be re-sent");
    }
    const { sendToReceiver } = await import("../receiver/send.js");
    const keep = ["content-type", "x-atlassian-webhook-identifier"];
    const headers = Object.fromEntries(Object.entries(d.headers).filter(([k]) => keep.includes(k)));
    return reportSent(ctx, await sendToReceiver(opts.send, d.provider, integration, d.body, headers));
  }
  // serve records the integration only once the secret or token checked out.
  if (d.integration === null && !opts.unverified) {
    throw new UsageError(
      `delivery ${id} never passed authentication (${refused})`,
      "replaying it would apply data no tracker vouched for; add --unverified if you trust it",
    );
  }
  if (d.bodySize !== null && d.body.length < d.bodySize) {
    throw new UsageError(`delivery ${id} kept only the first ${d.body.length} of its ${d.bodySize} bytes (${refused})`, "a refused request is not kept whole; have the tracker send it again");
  }
  const { decodeJson } = await import("../pipeline/inputs.js");
  await reportOne(
    ctx,
    {
      source: `delivery ${id}`,
      body: decodeJson(d.body),
      headers: d.headers,
      ...(d.provider ? { provider: d.provider } : {}),
      ...(d.integration ? { integration: d.integration } : {}),
    },
    { source: "replay", dryRun: opts.dryRun ?? false, ignoreOrder: opts.ignoreOrder ?? false },
  );
}

export function defineReplay(program: Command, context: ContextFactory): void {
  program
    .command("replay")
    .description("run recorded payloads through the sync engine (files, directories, NDJSON, arrays, - for stdin, or --delivery <id>)")
    .addHelpText("after", examples("hooksync replay examples/payloads", "hooksync replay recorded.ndjson --dry-run --json", "hooksync replay --delivery 1234567890123456   # a delivery serve recorded"))
    .argument("[input...]", "files, directories or - (stdin)")
    .addOption(new Option("--provider <name>", "skip detection").choices(["vsts", "jira"]))
    .addOption(integrationOption("the integration the payloads belong to"))
    .addOption(dryRunOption("run the engine and roll back: show what would change"))
    .option("--ignore-order", "apply even payloads older than what was already applied (behaviour.md 10.3)")
    .option("--delivery <id>", "re-run a delivery recorded by 'hooksync serve' (see 'hooksync deliveries')", wholeNumber(1))
    .addOption(new Option("--send <url>", "with --delivery: re-send its exact bytes to a receiver, freshly signed").conflicts("dryRun"))
    .option("--unverified", "with --delivery: also replay one that failed authentication")
    .action(async (inputs: string[], opts: ReplayOptions & ReplayDeliveryOptions & { delivery?: number }, cmd: Command) => {
      const ctx = context(cmd);
      if (opts.delivery === undefined) {
        if (opts.send || opts.unverified) throw new UsageError(`${opts.send ? "--send" : "--unverified"} goes with --delivery <id>`, "see 'hooksync deliveries'");
        if (inputs.length === 0) throw new UsageError("missing required argument 'input'", "see 'hooksync --help'");
        return void (await runReplay(ctx, inputs, opts));
      }
      if (inputs.length > 0) throw new UsageError("replay takes inputs or --delivery, not both", "run them one after the other");
      if (opts.provider || opts.integration) {
        throw new UsageError(`${opts.provider ? "--provider" : "--integration"} cannot be used with --delivery`, "the recorded delivery names both");
      }
      await runReplayDelivery(ctx, opts.delivery, opts);
    });
}
