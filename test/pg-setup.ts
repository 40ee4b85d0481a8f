import type { TestProject } from "vitest/node";
import { findServer } from "./pg-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The admin URL of the PostgreSQL server the tests use; null: the PostgreSQL suites skip. */
    pgUrl: string | null;
  }
}

/**
 * vitest's global setup: one PostgreSQL server for the whole run. Without one the PostgreSQL
 * suites skip, said in one loud line, unless HOOKSYNC_REQUIRE_PG is set (CI sets it): then the
 * run fails at once.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await findServer(process.env);
  if (!server.url) {
    const line = `PostgreSQL: ${server.how}`;
    if (process.env.HOOKSYNC_REQUIRE_PG) throw new Error(`${line}; HOOKSYNC_REQUIRE_PG is set, so the PostgreSQL suites must run`);
    process.stderr.write(`\n!!! SKIPPING every PostgreSQL test (the store, engine, receiver and PostgreSQL suites run on SQLite only): ${line}. Set HOOKSYNC_TEST_PG to a server URL to run them.\n\n`);
  }
  project.provide("pgUrl", server.url);
  return server.stop;
}
