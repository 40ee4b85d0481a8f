import { type Command, Option } from "commander";
import { PartialFailure, UsageError } from "../errors.js";
import { LineWriter } from "../io/writer.js";
import { Progress } from "../io/progress.js";
import type { ProviderName } from "../providers/types.js";
import type { Context, ContextFactory } from "./context.js";
import { count, emptyTotals, outcomeJson, outcomeLine, type Totals } from "./render-outcome.js";

export interface ReplayOptions {
  provider?: ProviderName;
  integration?: string;
  dryRun?: boolean;
}

/** Streams every payload of the inputs through the pipeline, one transaction each. */
export async function runReplay(ctx: Context, inputs: string[], opts: ReplayOptions): Promise<Totals> {
  const { io } = ctx.deps;
  const { resolveInputs, readBatches } = await import("../pipeline/inputs.js");
  const { processBatch } = await import("../pipeline/process.js");
  const sources = await resolveInputs(inputs, io.stdin, io.cwd);
  if (sources.some((s) => s.label === "stdin") && io.stdinIsTTY) {
    throw new UsageError("replay - reads payloads from stdin, but stdin is a terminal", "pipe payloads in, or name files");
  }
  const store = await ctx.store();
  const writer = new LineWriter(io.stdout);
  const totalBytes = sources.every((s) => s.size !== null) ? sources.reduce((n, s) => n + (s.size ?? 0), 0) : null;
  const progress = io.stderrIsTTY && !ctx.opts.quiet ? new Progress(io.stderr, totalBytes) : null;
  const totals = emptyTotals();
  let bytes = 0;
  let n = 0;
  const started = performance.now();
  const at = () => ctx.deps.now().toISOString();
  for (const src of sources) {
    for await (const batch of readBatches(src.open(), src.label, (b) => (bytes += b))) {
      const deliveries = batch.map((p) => ({ ...p, headers: {} }));
      // Reported only once committed: a line never claims a change that a crash could undo.
      for (const outcome of processBatch(store, deliveries, { source: "replay", ...opts }, at)) {
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
  }
  await writer.flush();
  progress?.clear();
  const seconds = (performance.now() - started) / 1000;
  const summary =
    `${opts.dryRun ? "dry run, nothing written: " : ""}${n} payload${n === 1 ? "" : "s"}: ` +
    `${totals.applied} applied, ${totals.ignored} ignored, ${totals.rejected} rejected; ` +
    `${totals.changes} change${totals.changes === 1 ? "" : "s"} in ${seconds.toFixed(2)}s`;
  ctx.out.info(summary);
  if (totals.rejected > 0) {
    throw new PartialFailure(`${totals.rejected} of ${n} payloads were rejected`, "each has its reason above");
  }
  return totals;
}

export function defineReplay(program: Command, context: ContextFactory): void {
  program
    .command("replay")
    .description("run recorded payloads through the sync engine (files, directories, NDJSON, arrays, - for stdin)")
    .argument("<input...>", "files, directories or - (stdin)")
    .addOption(new Option("--provider <name>", "skip detection").choices(["vsts", "jira"]))
    .option("--integration <externalId>", "the integration the payloads belong to")
    .option("--dry-run", "run the engine and roll back: show what would change")
    .action(async (inputs: string[], opts: ReplayOptions, cmd: Command) => {
      await runReplay(context(cmd), inputs, opts);
    });
}
