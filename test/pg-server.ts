import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";

/**
 * Finds the PostgreSQL server the tests run against, once per test run (vitest's global setup):
 * HOOKSYNC_TEST_PG (a URL) if set; else a server on 127.0.0.1:5432 (the project's machines and CI
 * run one there: trust authentication, user postgres, database test); else a throwaway cluster
 * when initdb is installed; else none, and the PostgreSQL suites skip with one loud line.
 */
export interface FoundServer {
  /** An admin URL: a user allowed to CREATE DATABASE, connected to an existing database. */
  url: string | null;
  /** How it was found, or why none was. */
  how: string;
  stop: () => Promise<void>;
}

const LOCAL = "postgres://postgres@127.0.0.1:5432/test";

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch {
    // end() on a client that never connected may never settle.
    return false;
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

function findInitdb(): string | null {
  const onPath = (process.env.PATH ?? "").split(":").map((d) => join(d, "initdb"));
  const debian = existsSync("/usr/lib/postgresql") ? readdirSync("/usr/lib/postgresql").map((v) => join("/usr/lib/postgresql", v, "bin", "initdb")) : [];
  return [...onPath, ...debian].find((p) => existsSync(p)) ?? null;
}

/** PostgreSQL refuses to run as root: as root, the cluster runs as the postgres user. */
function asUser(): { prefix: string[]; uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return { prefix: [] };
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { prefix: ["runuser", "-u", "postgres", "--"], uid: id("-u"), gid: id("-g") };
}

async function throwaway(initdb: string): Promise<FoundServer> {
  const dir = mkdtempSync(join(tmpdir(), "hooksync-pg-"));
  const user = asUser();
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid!);
  const bin = join(initdb, "..");
  const run = (cmd: string, args: string[]) => execFileSync(user.prefix[0] ?? cmd, [...user.prefix.slice(1), ...(user.prefix.length ? [cmd] : []), ...args], { stdio: "ignore" });
  run(join(bin, "initdb"), ["-D", join(dir, "data"), "--no-sync", "-U", "postgres", "--auth=trust", "-E", "UTF8"]);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const args = ["-D", join(dir, "data"), "-p", String(port), "-k", dir, "-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=200"];
  const child: ChildProcess = spawn(user.prefix[0] ?? join(bin, "postgres"), [...user.prefix.slice(1), ...(user.prefix.length ? [join(bin, "postgres")] : []), ...args], { stdio: "ignore" });
  // The socket directory rides in the query: the authority stays a parsable host for new URL().
  const url = `postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(dir)}`;
  for (let i = 0; i < 100 && !(await answers(url)); i++) await new Promise((r) => setTimeout(r, 100));
  return {
    url,
    how: `a throwaway cluster in ${dir} (initdb found, nothing on 127.0.0.1:5432)`,
    stop: async () => {
      // The postmaster itself (runuser, as root, does not pass the signal on): a fast shutdown.
      const pid = Number(readFileSync(join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
      const exited = new Promise((r) => child.once("exit", r));
      process.kill(pid, "SIGINT");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function findServer(env: NodeJS.ProcessEnv): Promise<FoundServer> {
  const none = async () => {};
  if (env.HOOKSYNC_TEST_PG) {
    if (await answers(env.HOOKSYNC_TEST_PG)) return { url: env.HOOKSYNC_TEST_PG, how: "HOOKSYNC_TEST_PG", stop: none };
    return { url: null, how: `HOOKSYNC_TEST_PG is set but nothing answers at it`, stop: none };
  }
  if (await answers(LOCAL)) return { url: LOCAL, how: "the server on 127.0.0.1:5432", stop: none };
  const initdb = findInitdb();
  if (initdb) {
    try {
      const server = await throwaway(initdb);
      if (await answers(server.url!)) return server;
      await server.stop();
    } catch (err) {
      return { url: null, how: `initdb is at ${initdb} but a throwaway cluster would not start: ${(err as Error).message}`, stop: none };
    }
  }
  return { url: null, how: "HOOKSYNC_TEST_PG is unset, nothing answers on 127.0.0.1:5432 and there is no initdb", stop: none };
}
