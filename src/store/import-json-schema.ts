import { toJsonSchema } from "@valibot/to-json-schema";
import { importFileSchema } from "./import-schema.js";

/**
 * The JSON Schema of the import file, made from the valibot schema the import itself validates
 * with, so the two cannot drift. Trimming and messages have no JSON Schema form; they are left
 * out rather than refusing to convert.
 */
export function importJsonSchema(): Record<string, unknown> {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "hooksync import file",
    description: "Organizations, projects, users, members, integrations, sync settings, status mappings, issues and links; every list optional. See docs/import.md.",
    ...toJsonSchema(importFileSchema, { errorMode: "ignore" }),
  };
}
