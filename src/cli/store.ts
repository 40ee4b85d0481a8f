import type { Command } from "commander";
import { type CopyResult, copyStore } from "../store/copy.js";
import type { Context, ContextFactory } from "./context.js";
import { examples } from "./options.js";

/**
 * `store copy <from> <to>`: the source must be a store; the target is made when it is missing (an
 * empty file, an empty PostgreSQL database), like `init` would, and must be empty unless --force.
 */
export async function runStoreCopy(ctx: Context, from: string, to: string, opts: { force?: boolean }): Promise<CopyResult> {
  const log = (line: string) => ctx.deps.io.stderr.write(`${line}\n`);
  const source = await ctx.deps.openStore(from, { mustExist: true, migrate: ctx.migrateAllowed, log });
  try {
    const target = await ctx.deps.openStore(to, { mustExist: false, log });
    try {
      return await copyStore(source, target, { force: opts.force === true });
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

function render(ctx: Context, r: CopyResult): void {
  if (ctx.json) return ctx.out.json(r);
  const counted = r.tables.filter((t) => t.rows > 0).map((t) => `${t.table} ${t.rows}`);
  const replaced = r.replaced > 0 ? `; the ${r.replaced} rows it held before were replaced` : "";
  ctx.out.text(`copied ${r.rows} rows from ${r.from} to ${r.to}${counted.length ? ` (${counted.join(", ")})` : ""}${replaced}`);
}

export function defineStore(program: Command, context: ContextFactory): void {
  const store = program
    .command("store")
    .description("whole stores: copy one to another backend")
    .addHelpText("after", examples("hooksync store copy hooksync.db postgres://hooksync@db.internal:5432/hooksync"));
  store
    .command("copy")
    .description("copy every row of a store into another (SQLite file or PostgreSQL database, either way), in one transaction on the target")
    .argument("<from>", "the store to copy: a path, sqlite:<path> or postgres://user@host:5432/db")
    .argument("<to>", "where to: made if missing; must be empty unless --force")
    .option("--force", "replace everything the target holds")
    .addHelpText(
      "after",
      examples(
        "hooksync store copy ~/.local/share/hooksync/hooksync.db postgres://hooksync@db.internal:5432/hooksync",
        "hooksync store copy postgres://hooksync@db.internal/hooksync backup.db --force",
      ),
    )
    .action(async (from: string, to: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      render(ctx, await runStoreCopy(ctx, from, to, opts));
    });
}
