import { describe, expect, it } from "vitest";
import { latestVersion, migrations } from "../../src/store/migrations.js";
import { pgMigrations } from "../../src/store/pg-migrations.js";

describe("PostgreSQL's migrations", () => {
  it("reach the schema version SQLite's do, standing for every version once", () => {
    expect(pgMigrations.at(-1)!.version).toBe(latestVersion);
    expect(pgMigrations.flatMap((m) => m.covers)).toEqual(migrations.map((m) => m.version));
  });
});
