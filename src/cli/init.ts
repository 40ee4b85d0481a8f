import type { Command } from "commander";
import { packageFile } from "../paths.js";
import type { ImportSummary } from "../store/import.js";
import type { Context, ContextFactory } from "./context.js";
import { renderSummary, runImport } from "./import.js";
import { examples } from "./options.js";

export const DEMO_DATASET = "examples/demo.json";

export interface InitResult {
  db: string;
  schemaVersion: number;
  demo: ImportSummary | null;
}

export async function runInit(ctx: Context, opts: { demo?: boolean }): Promise<InitResult> {
  // The one command that makes a store where none is.
  const store = await ctx.store({ mustExist: false });
  const demo = opts.demo ? await runImport(ctx, packageFile(DEMO_DATASET)) : null;
  return { db: store.location, schemaVersion: await store.schemaVersion(), demo };
}

export function defineInit(program: Command, context: ContextFactory): void {
  program
    .command("init")
    .description("create or migrate the store (idempotent)")
    .addHelpText("after", examples("hooksync init", "hooksync init --demo --db demo.db   # a store with the demo data (examples/demo.json)"))
    .option("--demo", "also import the bundled demo dataset (examples/demo.json)")
    .action(async (opts: { demo?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      const result = await runInit(ctx, opts);
      if (ctx.json) return ctx.out.json(result);
      ctx.out.text(`store ready: ${result.db} (schema version ${result.schemaVersion})`);
      if (result.demo) {
        renderSummary(ctx, result.demo);
        ctx.out.info(ctx.style.dim(`next: hooksync replay ${packageFile("examples/payloads")} --db ${result.db}`));
      }
    });
}
