import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importFileSchema } from "../../src/store/import-schema.js";
import { ROOT, run } from "../helpers.js";

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; required?: string[]; additionalProperties?: boolean; anyOf?: Schema[] };

/** Every object key of value must be a property the schema allows, at every depth. */
function unknownKeys(value: unknown, schema: Schema, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownKeys(v, schema.items ?? {}, `${path}[${i}]`));
  if (typeof value !== "object" || value === null || !schema.properties) return [];
  return Object.entries(value).flatMap(([k, v]) => (schema.properties![k] ? unknownKeys(v, schema.properties![k]!, `${path}.${k}`) : [`${path}.${k}`]));
}

describe("import --schema", () => {
  it("prints the JSON Schema of the import file, made from the schema the import validates with, and opens no store", async () => {
    const r = await run(["import", "--schema", "--db", join(ROOT, "no-such-dir", "x.db")]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as Schema;
    expect(schema).toMatchObject({ type: "object", additionalProperties: false });
    expect(Object.keys(schema.properties!)).toEqual(Object.keys(importFileSchema.entries));
    expect(schema.properties!.integrations!.items).toMatchObject({ required: ["provider", "externalId", "name"], additionalProperties: false });
    // The bundled demo file fits it, and a misspelt key would not.
    const demo = JSON.parse(readFileSync(join(ROOT, "examples", "demo.json"), "utf8"));
    expect(unknownKeys(demo, schema)).toEqual([]);
    expect(unknownKeys({ ...demo, organisations: [] }, schema)).toEqual([".organisations"]);
  });

  it("takes no file with --schema, and names --schema when the file is missing", async () => {
    expect((await run(["import", "--schema", "x.json"])).stderr).toBe("hooksync: --schema takes no file (run 'hooksync import --schema' alone)\n");
    const missing = await run(["import"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing required argument 'file' \(.*'hooksync import --schema'\)/);
  });

  it("ships docs/import.md with the package", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { files: string[] };
    expect(pkg.files).toContain("docs");
    expect(readFileSync(join(ROOT, "docs", "import.md"), "utf8")).toContain("hooksync import --schema");
  });
});
