import type { Command } from "commander";
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { ProviderName } from "../providers/types.js";
import type { ImportSummary } from "../store/import.js";
import type { Context, ContextFactory } from "./context.js";
import { readJsonDocument } from "./read-json.js";

export async function runImport(ctx: Context, file: string): Promise<ImportSummary> {
  if (file !== "-" && isDirectory(resolve(ctx.deps.io.cwd, file))) {
    throw new UsageError(`${file} is a directory`, "import takes one JSON file, or - for stdin");
  }
  const data = await readJsonDocument(file, ctx.deps.io.stdin, ctx.deps.io.cwd);
  const store = await ctx.store();
  const { importData } = await import("../store/import.js");
  const { externalKeyOf, externalKeyShape } = await import("../providers/keys.js");
  const normalize = (provider: string, raw: string) => {
    const key = externalKeyOf[provider as ProviderName](raw);
    return key ? { key } : { problem: `${JSON.stringify(raw)} is not ${externalKeyShape[provider as ProviderName]}` };
  };
  return importData(store, data, () => ctx.deps.randomBytes(32).toString("base64url"), file === "-" ? "stdin" : file, normalize);
}

const isDirectory = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;

export function renderSummary(ctx: Context, summary: ImportSummary): void {
  const parts = Object.entries(summary)
    .filter(([, t]) => t.created + t.updated + t.unchanged > 0)
    .map(([kind, t]) => {
      const detail = [t.created && `${t.created} new`, t.updated && `${t.updated} updated`, t.unchanged && `${t.unchanged} unchanged`]
        .filter(Boolean)
        .join(", ");
      return `${kind} ${detail}`;
    });
  ctx.out.text(parts.length ? `imported: ${parts.join("; ")}` : "imported: the file lists nothing");
}

export function defineImport(program: Command, context: ContextFactory): void {
  program
    .command("import")
    .description("upsert organizations, projects, users, integrations, issues and links from a JSON file, all or nothing")
    .argument("<file>", "the import file (cli.md shape), or - for stdin")
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const summary = await runImport(ctx, file);
      if (ctx.json) ctx.out.json(summary);
      else renderSummary(ctx, summary);
    });
}
