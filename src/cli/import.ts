import type { Command } from "commander";
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { ProviderName } from "../providers/types.js";
import type { ImportSummary } from "../store/import.js";
import type { Context, ContextFactory } from "./context.js";
import { readJsonDocument } from "./read-json.js";
import { examples } from "./options.js";

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
    .addHelpText("after", examples("hooksync import examples/demo.json", "hooksync import - < data.json", "hooksync import --schema > import.schema.json"))
    .argument("[file]", "the import file (its shape: --schema, or docs/import.md), or - for stdin")
    .option("--schema", "print the JSON Schema of the import file and stop")
    .action(async (file: string | undefined, opts: { schema?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      if (opts.schema) {
        if (file !== undefined) throw new UsageError("--schema takes no file", "run 'hooksync import --schema' alone");
        return ctx.out.json((await import("../store/import-json-schema.js")).importJsonSchema());
      }
      if (file === undefined) throw new UsageError("missing required argument 'file'", "name the import file, or - for stdin; its shape: 'hooksync import --schema'");
      const summary = await runImport(ctx, file);
      if (ctx.json) ctx.out.json(summary);
      else renderSummary(ctx, summary);
    });
}
