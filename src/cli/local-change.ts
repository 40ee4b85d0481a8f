import type { Command } from "commander";
import type { LocalChange } from "../engine/local.js";
import { PartialFailure } from "../errors.js";
import type { PushFlags } from "../outbound/command-sender.js";
import { type LocalReport, runLocalChange } from "../outbound/local-change.js";
import type { Context, ContextFactory } from "./context.js";
import { describeChange } from "./render-outcome.js";
import { renderPushes } from "./render-push.js";
import { addPushOptions, examples } from "./options.js";

export interface LocalFlags extends PushFlags {
  /** Exit 1 when a push failed (it stays queued either way). */
  strict?: boolean;
}

function render(ctx: Context, report: LocalReport, strict: boolean | undefined): void {
  if (ctx.json) ctx.out.json(report);
  else {
    const s = ctx.style;
    for (const c of report.changes) ctx.out.text(describeChange(c, s));
  }
  renderPushes(ctx, ctx.json ? report.pushes.filter((p) => !p.ok) : report.pushes);
  const failed = report.pushes.filter((p) => !p.ok).length;
  if (strict && failed > 0) throw new PartialFailure(`${failed} of ${report.pushes.length} pushes failed`, "they stay queued for 'hooksync outbound retry'");
}

/** One local-change command: `<issue>` plus what the change needs, the push flags, --strict. */
export function defineLocalChange(
  program: Command,
  context: ContextFactory,
  o: { name: string; description: string; examples: string[]; args?: [string, string][]; change: (args: string[]) => LocalChange },
): void {
  const cmd = program
    .command(o.name)
    .description(o.description)
    .addHelpText("after", examples(...o.examples))
    .argument("<issue>", "the local issue (BACKEND-1)");
  for (const [name, description] of o.args ?? []) cmd.argument(name, description);
  addPushOptions(cmd.option("--strict", "exit 1 when a push to a tracker failed (it stays queued either way)")).action(async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const flags = params[params.length - 2] as LocalFlags;
    const args = params.slice(0, -2) as string[];
    const ctx = context(command);
    render(ctx, await runLocalChange(ctx, args[0]!, o.change(args.slice(1)), flags), flags.strict);
  });
}
