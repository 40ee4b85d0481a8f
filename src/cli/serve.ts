import { type Command, Option } from "commander";
import type { RequestLog } from "../receiver/answer.js";
import type { ServiceOptions } from "../receiver/service.js";
import type { Context, ContextFactory } from "./context.js";
import { duration, wholeNumber } from "./numbers.js";
import { pushLine } from "./render-push.js";
import { describePruned } from "./render-pruned.js";
import { oneLine } from "./safe-text.js";
import { examples } from "./options.js";

// Kept here rather than imported from the receiver, so `hooksync --help` loads no node:http.
export const SERVE_DEFAULTS = {
  host: "127.0.0.1",
  port: 8080,
  bodyLimit: 1024 * 1024,
  requestTimeout: 10_000,
  maxConnections: 1024,
  maxBuffered: 64 * 1024 * 1024,
  lookupTimeout: 3_000,
  lookupCooldown: 30_000,
  retain: duration()("30d"),
  outbound: true,
  // PostgreSQL's: as many deliveries are applied at once (its own transaction each).
  poolSize: 10,
};

export type ServeFlags = typeof SERVE_DEFAULTS;

export interface ServeSummary {
  url: string;
  requests: number;
}

function humanLine(ctx: Context, e: RequestLog): string {
  const s = ctx.style;
  const status = e.status === null ? s.dim("---") : (e.status < 300 ? s.green : e.status < 500 ? s.yellow : s.red)(String(e.status));
  const parts = [s.dim(e.time), e.method, e.path, status];
  if (e.outcome) parts.push(e.outcome);
  parts.push(s.dim(`${e.ms}ms`));
  if (e.delivery !== null) parts.push(s.dim(`delivery ${e.delivery}`));
  if (e.reason) parts.push(`- ${oneLine(e.reason)}`);
  return parts.join(" ");
}

const serviceOptions = (f: ServeFlags): ServiceOptions => ({
  host: f.host,
  port: f.port,
  bodyLimit: f.bodyLimit,
  requestTimeout: f.requestTimeout,
  maxConnections: f.maxConnections,
  maxBufferedBytes: f.maxBuffered,
  lookupTimeoutMs: f.lookupTimeout,
  lookupCooldownMs: f.lookupCooldown,
  retainMs: f.retain,
  outbound: f.outbound,
});

/**
 * Runs the service until the signal aborts, then stops accepting, lets requests in flight
 * finish and closes the store. An answered 200 survives a power cut (the receiver syncs the WAL
 * before answering), since the tracker will not send the delivery again.
 */
export async function runServe(ctx: Context, given: Partial<ServeFlags>, signal: AbortSignal): Promise<ServeSummary> {
  const flags = { ...SERVE_DEFAULTS, ...given };
  const store = await ctx.store({ poolSize: flags.poolSize });
  const { startService } = await import("../receiver/service.js");
  const { io } = ctx.deps;
  let requests = 0;
  const service = await startService(store, ctx.deps, serviceOptions(flags), {
    request: (e) => {
      if (e.method !== "PENDING") requests++;
      if (ctx.json) ctx.out.jsonLine(e);
      else ctx.out.info(humanLine(ctx, e));
    },
    pushed: (r) => (r.ok ? ctx.out.verbose(pushLine(r)) : ctx.out.info(`hooksync: ${pushLine(r)}`)),
    pruned: (r) => {
      if (r.deleted + r.stripped > 0) ctx.out.verbose(describePruned(r, flags.retain));
    },
    note: (line) => ctx.out.verbose(oneLine(line)),
    error: (part, err) => io.stderr.write(`hooksync: ${part} error: ${oneLine(err.message)}\n`),
  });
  // Always printed, even with -q: with --port 0 it is the only way to learn the port.
  io.stderr.write(`listening on ${service.url}\n`);
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  ctx.out.info("stopping: finishing the requests in flight");
  await service.close();
  await ctx.close();
  ctx.out.info(`stopped after ${requests} request${requests === 1 ? "" : "s"}`);
  return { url: service.url, requests };
}

export function defineServe(program: Command, context: ContextFactory): void {
  const d = SERVE_DEFAULTS;
  program
    .command("serve")
    .description("receive Azure DevOps and Jira webhooks (POST /hooks/vsts, POST /hooks/jira/<jwt>, GET /healthz), send the outbox, prune old deliveries")
    .addHelpText("after", examples("hooksync serve", "hooksync serve --host 0.0.0.0 --port 8080 --retain 7d", "hooksync serve --no-outbound   # leave pushes to 'hooksync outbound send'"))
    .option("--host <host>", "address to listen on", d.host)
    .option("--port <port>", "port to listen on (0: any free port)", wholeNumber(0, 65535), d.port)
    .option("--body-limit <bytes>", "largest body accepted (413 above)", wholeNumber(1), d.bodyLimit)
    .option("--request-timeout <ms>", "time allowed to receive a whole request (408 after)", wholeNumber(1), d.requestTimeout)
    .option("--max-connections <n>", "connections open at once; more are refused", wholeNumber(1), d.maxConnections)
    .option("--max-buffered <bytes>", "request body bytes held in memory at once, all requests together (503 with Retry-After past it)", wholeNumber(1), d.maxBuffered)
    .option("--lookup-timeout <ms>", "time a Jira user lookup may take before its delivery is kept pending (202)", wholeNumber(1), d.lookupTimeout)
    .option("--lookup-cooldown <ms>", "after a failed lookup, wait this long before asking that Jira again and retrying pending deliveries", wholeNumber(1), d.lookupCooldown)
    .addOption(
      new Option("--retain <duration>", "prune deliveries older than this in the background: 90m, 12h, 30d; 0 keeps all")
        .argParser(duration({ zero: "to keep all" }))
        .default(d.retain, "30d"),
    )
    .option("--pool-size <n>", "PostgreSQL store: connections this receiver holds at most, so deliveries applied at once (SQLite has one)", wholeNumber(1, 1000), d.poolSize)
    .option("--no-outbound", "leave the outbox to 'hooksync outbound send' (serve sends it on a schedule otherwise)")
    .action(async (flags: ServeFlags, cmd: Command) => {
      const ctx = context(cmd);
      const stop = new AbortController();
      // A second Ctrl-C finds no handler left and ends the process at once, as people expect.
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await runServe(ctx, flags, stop.signal);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
