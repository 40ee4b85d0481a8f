import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { HooksyncError, PartialFailure } from "../errors.js";
import type { BaseHttpOptions } from "../http/client.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
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

/** The store: present, intact, migrated, private. Opened read-only, so doctor never creates or migrates one. */
async function storeChecks(ctx: Context): Promise<Check[]> {
  const path = ctx.dbPath;
  if (!existsSync(path)) return [{ check: "store", verdict: "fail", detail: `no store at ${path} (run 'hooksync init')` }];
  const { openDb, schemaVersion, latestVersion } = await import("../store/db.js");
  const checks: Check[] = [];
  let db;
  try {
    db = openDb(path, { readonly: true });
  } catch (err) {
    return [{ check: "store", verdict: "fail", detail: (err as Error).message }];
  }
  try {
    const integrity = db.pragma("integrity_check", { simple: true });
    const version = schemaVersion(db);
    const journal = db.pragma("journal_mode", { simple: true });
    checks.push({
      check: "store",
      verdict: integrity !== "ok" ? "fail" : version < latestVersion ? "warn" : "ok",
      detail:
        `${path}: integrity ${integrity === "ok" ? "ok" : `damaged (${String(integrity)})`}, schema version ${version} of ${latestVersion}` +
        `${version < latestVersion ? " (run 'hooksync init' to migrate)" : ""}, journal ${String(journal)}`,
    });
  } finally {
    db.close();
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`].filter(existsSync)) {
    const m = mode(file);
    if (m & 0o077) checks.push({ check: "store file", verdict: "fail", detail: `${file} is mode ${octal(m)}: others can read webhook secrets (chmod 600 ${file})` });
  }
  if (!checks.some((c) => c.check === "store file")) checks.push({ check: "store file", verdict: "ok", detail: `mode ${octal(mode(path))}` });
  return checks;
}

/** Which store this run uses and why, with the default path a newcomer's commands fall back to. */
function storePathCheck(ctx: Context): Check {
  const detail =
    ctx.dbOrigin === "default"
      ? `${ctx.dbPath} (the default; --db or HOOKSYNC_DB choose another)`
      : `${ctx.dbPath} (from ${ctx.dbOrigin}; the default is ${defaultDbPath()})`;
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
function outboxCheck(store: Store): Check {
  const counts = Object.values(store.outbox.counts());
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
  if (checks[0]?.verdict === "ok") checks.push(outboxCheck(store));
  if (opts.offline) return checks;
  for (const integration of store.integrations.all()) checks.push(await trackerCheck(ctx, integration, opts));
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
