// The PostgreSQL server the PostgreSQL figures run against, and the databases made there for
// them: HOOKSYNC_BENCH_PG (an admin URL: a user allowed to CREATE DATABASE, connected to an
// existing database) if set, else the server on 127.0.0.1:5432 if it answers (the project's
// machines run one there, as for the tests), else none and those figures are skipped.
import pg from "pg";
import { shownUrl } from "../dist/store/shown-url.js";

const LOCAL = "postgres://postgres@127.0.0.1:5432/test";

/** BIGINT as JS numbers, as the store reads them (ids are 53-bit snowflakes). */
export const types = {
  getTypeParser: (oid, format) => (oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)),
};

/** What the store asks of every connection: a COMMIT returns once the server has it on disk. */
export const DURABLE = "-c synchronous_commit=on";

async function answers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch {
    return false; // end() on a client that never connected may never settle
  }
  try {
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The admin URL to use, or null with why there is none. HOOKSYNC_BENCH_PG set but dead is an error, not a skip. */
export async function findPg(env = process.env) {
  if (env.HOOKSYNC_BENCH_PG) {
    if (await answers(env.HOOKSYNC_BENCH_PG)) return { admin: env.HOOKSYNC_BENCH_PG };
    throw new Error(`HOOKSYNC_BENCH_PG is set but nothing answers at it: ${shownUrl(env.HOOKSYNC_BENCH_PG)}`);
  }
  if (await answers(LOCAL)) return { admin: LOCAL };
  return { admin: null, why: "HOOKSYNC_BENCH_PG is unset and nothing answers on 127.0.0.1:5432" };
}

/**
 * The databases of one bench run on the admin's server, named after this process so that two
 * runs never meet; dropAll drops every one made, whatever happened meanwhile.
 */
export class PgDatabases {
  constructor(admin) {
    this.admin = admin;
    this.made = [];
  }

  /** The URL of the database `name` on the admin's server (its other settings kept). */
  url(name) {
    const u = new URL(this.admin);
    u.pathname = `/${name}`;
    return u.toString();
  }

  async query(text) {
    const client = new pg.Client({ connectionString: this.admin });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  }

  /** A new empty database, or a copy of `template` (no one may be connected to it meanwhile); returns its URL. */
  async create(what, template) {
    const name = `hooksync_bench_${process.pid}_${what}`;
    await this.query(`DROP DATABASE IF EXISTS ${name}`);
    await this.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template.name}` : ""}`);
    this.made.push(name);
    return { name, url: this.url(name) };
  }

  async drop(db) {
    // FORCE (PostgreSQL 13+) ends what a failed run left connected; older servers drop without it.
    await this.query(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`).catch(() => this.query(`DROP DATABASE IF EXISTS ${db.name}`));
    this.made = this.made.filter((n) => n !== db.name);
  }

  async dropAll() {
    for (const name of [...this.made]) await this.drop({ name });
  }
}
