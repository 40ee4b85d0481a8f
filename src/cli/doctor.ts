import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { HooksyncError, PartialFailure } from "../errors.js";
import type { BaseHttpOptions } from "../http/client.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import { shownUrl } from "../store/shown-url.js";
import { parseTarget } from "../store/open.js";
import type { Store } from "../store/store.js";
import { type Context, type ContextFactory, defaultDbPath } from "./context.js";
import { type HttpFlags, withHttp, withJira, withVsts } from "../trackers/sessions.js";
import { addHttpOptions, examples } from "./options.js";
import { withoutTrailingSlash } from "../url.js";

export type Verdict = "ok" | "warn" | "fail";

export interface Check {
  check: string;
  verdict: Verdict;
  detail: string;
}

const mode = (path: string) => statSync(path).mode & 0o777;
const octal = (m: number) => `0${m.toString(8)}`;

/**
 * The store: present, migrated, and on SQLite intact and private. Opened read-only, so doctor
 * never creates or migrates one. A missing SQLite file is reported before opening it, with the
 * command that makes one.
 */
async function storeChecks(ctx: Context): Promise<Check[]> {
  let store: Store;
  try {
    const where = parseTarget(ctx.dbPath);
    if (where.kind === "sqlite" && !existsSync(where.path)) return [{ check: "store", verdict: "fail", detail: `no store at ${where.path} (run 'hooksync init')` }];
    store = await ctx.store({ readonly: true });
  } catch (err) {
    return [{ check: "store", verdict: "fail", detail: (err as Error).message }];
  }
  const { latestVersion } = await import("../store/migrations.js");
  const version = await store.schemaVersion();
  const verdict: Verdict = version < latestVersion ? "warn" : "ok";
  const schema = `schema version ${version} of ${latestVersion}${verdict === "warn" ? " (run 'hooksync init' to migrate)" : ""}`;
  return store.dialect === "sqlite" ? sqliteChecks(store, schema, verdict) : postgresChecks(store, schema, verdict);
}

/** SQLite: the file intact (integrity_check), its journal, and the store's files private. */
async function sqliteChecks(store: Store, schema: string, schemaVerdict: Verdict): Promise<Check[]> {
  const integrity = (await store.sql.get<{ integrity_check: string }>("PRAGMA integrity_check"))?.integrity_check;
  const journal = (await store.sql.get<{ journal_mode: string }>("PRAGMA journal_mode"))?.journal_mode;
  const checks: Check[] = [
    {
      check: "store",
      verdict: integrity !== "ok" ? "fail" : schemaVerdict,
      detail: `${store.location}: integrity ${integrity === "ok" ? "ok" : `damaged (${String(integrity)})`}, ${schema}, journal ${String(journal)}`,
    },
  ];
  const file = store.file;
  if (file === undefined) return checks;
  for (const f of [file, `${file}-wal`, `${file}-shm`].filter(existsSync)) {
    const m = mode(f);
    if (m & 0o077) checks.push({ check: "store file", verdict: "fail", detail: `${f} is mode ${octal(m)}: others can read webhook secrets (chmod 600 ${f})` });
  }
  if (!checks.some((c) => c.check === "store file")) checks.push({ check: "store file", verdict: "ok", detail: `mode ${octal(mode(file))}` });
  return checks;
}

/**
 * PostgreSQL: where the store is, its schema version, the server, one round trip's time, whether
 * a COMMIT waits for the disk (what serve's 200 promises), and this process's pool.
 */
async function postgresChecks(store: Store, schema: string, schemaVerdict: Verdict): Promise<Check[]> {
  const started = performance.now();
  const server = await store.sql.get<{ version: string; sync: string; connections: number; max: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS sync,
            (SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()) AS connections,
            current_setting('max_connections') AS max`,
  );
  const ms = (performance.now() - started).toFixed(1);
  const durable = server?.sync !== "off";
  return [
    { check: "store", verdict: schemaVerdict, detail: `${store.location}: ${schema}` },
    {
      check: "store server",
      verdict: durable ? "ok" : "fail",
      detail:
        `PostgreSQL ${server?.version}, round trip ${ms} ms, synchronous_commit ${server?.sync}` +
        (durable ? "" : " (a 200 from serve would not mean the delivery is on disk: set it on for this database)"),
    },
    { check: "store pool", verdict: "ok", detail: `up to ${store.poolSize} connections from this process; ${server?.connections} open to this database (server max ${server?.max})` },
  ];
}

/** Which store this run uses and why, with the default path a newcomer's commands fall back to. */
function storePathCheck(ctx: Context): Check {
  const shown = /^postgres(ql)?:/i.test(ctx.dbPath) ? shownUrl(ctx.dbPath) : ctx.dbPath;
  const detail =
    ctx.dbOrigin === "default"
      ? `${shown} (the default; --db or HOOKSYNC_DB choose another)`
      : `${shown} (from ${ctx.dbOrigin}; the default is ${defaultDbPath()})`;
  return { check: "store path", verdict: "ok", detail };
}

async function credentialChecks(ctx: Context): Promise<Check[]> {
  const { configDir } = await import("../config/credentials.js");
  const dir = configDir(ctx.deps.io.env);
  const file = join(dir, "credentials.json");
  if (!existsSync(file)) return [{ check: "credentials", verdict: "ok", detail: `none stored (${file}); Jira OAuth tokens and the Discord webhook go there` }];
  const fileMode = mode(file);
  const dirMode = mode(dirname(file));
  const open = (fileMode & 0o077) !== 0 || (dirMode & 0o077) !== 0;
  return [
    {
      check: "credentials",
      verdict: open ? "fail" : "ok",
      detail: `${file}: mode ${octal(fileMode)}, directory ${octal(dirMode)}${open ? ` (others can read tokens: chmod 600 ${file}; chmod 700 ${dir})` : ""}`,
    },
  ];
}

/**
 * An answer below 500 means the server is there (401 and 404 are the auth check's business); a
 * 5xx is a server that cannot serve, or a proxy with nothing behind it: a failing check.
 */
async function reachable(base: BaseHttpOptions, service: string, url: URL): Promise<string> {
  const { HttpClient } = await import("../http/client.js");
  const anyStatus = Array.from({ length: 400 }, (_, i) => i + 100);
  const client = new HttpClient({ ...base, service, retry: { maxAttempts: 1 } });
  const res = await client.request({ method: "GET", url, what: "reach the server", accept: anyStatus });
  return `reachable (HTTP ${res.status})`;
}

async function trackerCheck(ctx: Context, integration: IntegrationRow, flags: HttpFlags): Promise<Check> {
  const check = `${integration.provider} ${integration.externalId}`;
  if (!integration.baseUrl) return { check, verdict: "warn", detail: "no baseUrl: subscribe, search and outbound sync cannot reach it" };
  const base = withoutTrailingSlash(integration.baseUrl);
  try {
    if (integration.provider === "vsts") {
      if (!ctx.deps.io.env.AZURE_DEVOPS_EXT_PAT && !ctx.deps.io.env.AZURE_DEVOPS_TOKEN) {
        const seen = await withHttp(ctx, flags, (b) => reachable(b, "Azure DevOps", new URL(`${base}/_apis/connectionData`)));
        return { check, verdict: "ok", detail: `${base} ${seen}; set AZURE_DEVOPS_EXT_PAT to check the token too` };
      }
      const [count, via] = await withVsts(ctx, { ...flags, integration: integration.externalId }, async (s) => [(await s.client.list()).length, s.credential] as const);
      return { check, verdict: "ok", detail: `${base}: token accepted, ${via} (${count} webhook subscription${count === 1 ? "" : "s"} in the organization)` };
    }
    const { CredentialStore } = await import("../config/credentials.js");
    const creds = ctx.deps.io.env.JIRA_API_TOKEN || (await CredentialStore.openExisting(ctx.deps.io.env))?.jiraAuthFor(integration);
    if (!creds) {
      const seen = await withHttp(ctx, flags, (b) => reachable(b, "Jira", new URL(`${base}/rest/api/2/serverInfo`)));
      return { check, verdict: "ok", detail: `${base} ${seen}; no credentials stored ('hooksync login jira' or 'hooksync oauth jira' to sign in)` };
    }
    const [me, via] = await withJira(ctx, { ...flags, integration: integration.externalId }, async (s) => [await s.client.myself(), s.credential] as const);
    return { check, verdict: "ok", detail: `${base}: with ${via}, signed in as ${me.name ?? me.displayName ?? "?"}` };
  } catch (err) {
    if (!(err instanceof HooksyncError)) throw err;
    // The message often ends in its own parentheses ("(HTTP 503 on ...)"): the hint follows after a semicolon.
    return { check, verdict: "fail", detail: `${err.message}${err.hint ? `; ${err.hint}` : ""}` };
  }
}

/** Pushes given up after three days of failing wait for someone: a failing check until they are sent or discarded. */
async function outboxCheck(store: Store): Promise<Check> {
  const counts = Object.values(await store.outbox.counts());
  const failed = counts.reduce((n, c) => n + c.failed, 0);
  const pending = counts.reduce((n, c) => n + c.pending, 0);
  if (failed === 0) return { check: "outbox", verdict: "ok", detail: `${pending} push${pending === 1 ? "" : "es"} waiting, none given up` };
  return {
    check: "outbox",
    verdict: "fail",
    detail: `${failed} push${failed === 1 ? "" : "es"} given up after 3 days of failing (see 'hooksync outbound list --failed'; 'hooksync outbound retry' sends them, 'outbound discard' drops them)`,
  };
}

export async function runDoctor(ctx: Context, opts: HttpFlags & { offline?: boolean }): Promise<Check[]> {
  const checks = [...(await storeChecks(ctx)), storePathCheck(ctx), ...(await credentialChecks(ctx))];
  if (checks[0]?.verdict === "fail") return checks;
  const store = await ctx.store({ readonly: true });
  // An older schema (doctor never migrates) lacks the outbox's schedule; the store check says so already.
  if (checks[0]?.verdict === "ok") checks.push(await outboxCheck(store));
  if (opts.offline) return checks;
  for (const integration of await store.integrations.all()) checks.push(await trackerCheck(ctx, integration, opts));
  return checks;
}

export function defineDoctor(program: Command, context: ContextFactory): void {
  addHttpOptions(
    program
      .command("doctor")
      .description("check the store, the credentials file and the trackers, one verdict a line")
      .addHelpText("after", examples("hooksync doctor", "hooksync doctor --offline --json"))
      .option("--offline", "skip the trackers"),
  ).action(async (opts: HttpFlags & { offline?: boolean }, cmd: Command) => {
    const ctx = context(cmd);
    const checks = await runDoctor(ctx, opts);
    const s = ctx.style;
    if (ctx.json) ctx.out.json({ ok: checks.every((c) => c.verdict !== "fail"), checks });
    else {
      const paint = { ok: s.green("ok  "), warn: s.yellow("warn"), fail: s.red("fail") };
      const width = Math.max(...checks.map((c) => c.check.length));
      for (const c of checks) ctx.out.text(`${paint[c.verdict]}  ${c.check.padEnd(width)}  ${c.detail}`);
    }
    const failed = checks.filter((c) => c.verdict === "fail").length;
    if (failed) throw new PartialFailure(`${failed} check${failed === 1 ? "" : "s"} failed`, "each says what to do");
  });
}
