import type { Command } from "commander";
import type { RequestLog, ServeOptions } from "../receiver/server.js";
import type { Context, ContextFactory } from "./context.js";
import { wholeNumber } from "./numbers.js";
import { pushLine } from "./push.js";
import { oneLine } from "./safe-text.js";

// Kept here rather than imported from the receiver, so `hooksync --help` loads no node:http.
const DEFAULTS = {
  bodyLimit: 1024 * 1024,
  requestTimeout: 10_000,
  maxConnections: 1024,
  maxBuffered: 64 * 1024 * 1024,
  lookupTimeout: 3_000,
  lookupCooldown: 30_000,
};

export interface ServeFlags extends Omit<ServeOptions, "pendingIntervalMs" | "maxBufferedBytes"> {
  maxBuffered: number;
  /** false with --no-outbound. */
  outbound?: boolean;
  lookupTimeout: number;
  lookupCooldown: number;
}

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

/**
 * Runs the receiver until the signal aborts, then stops accepting, lets requests in flight
 * finish and closes the store. An answered 200 survives a power cut (the receiver syncs the WAL
 * before answering), since the tracker will not send the delivery again.
 */
export async function runServe(ctx: Context, flags: ServeFlags, signal: AbortSignal): Promise<ServeSummary> {
  const store = await ctx.store();
  // Behaviour 7.3: the outbox sent on its schedule, unless 'hooksync outbound send' is left to do it.
  const drain =
    flags.outbound === false
      ? undefined
      : (await import("../outbound/drain.js")).startOutboxDrain(store, ctx.deps, {
          report: (r) => (r.ok ? ctx.out.verbose(pushLine(r)) : ctx.out.info(`hooksync: ${pushLine(r)}`)),
          onError: (err) => ctx.deps.io.stderr.write(`hooksync: outbound error: ${oneLine(err.message)}\n`),
          log: (line) => ctx.out.verbose(line),
        });
  const { startServer } = await import("../receiver/server.js");
  const { AssigneeEnricher } = await import("../pipeline/enrich.js");
  const { io } = ctx.deps;
  // Rule 3.5 within a budget: a lookup that fails keeps its delivery pending (rule 10.4), and the
  // integration's lookups pause for the cooldown, then are tried again.
  const enricher = new AssigneeEnricher({
    deps: ctx.deps,
    note: (line) => ctx.out.verbose(oneLine(line)),
    budgetMs: flags.lookupTimeout,
    cooldownMs: flags.lookupCooldown,
  });
  let requests = 0;
  const { maxBuffered, lookupTimeout: _t, lookupCooldown, outbound: _o, ...opts } = flags;
  const server = await startServer(store, { ...opts, maxBufferedBytes: maxBuffered, pendingIntervalMs: lookupCooldown }, {
    now: ctx.deps.now,
    lookup: async (delivery, integration) => {
      const e = await enricher.enrich(store, delivery, integration.externalId);
      return e.failure === undefined ? { ok: true, delivery: e.delivery } : { ok: false, reason: e.failure };
    },
    log: (e) => {
      if (e.outcome === "applied") drain?.kick();
      if (e.method !== "PENDING") requests++;
      if (ctx.json) ctx.out.jsonLine(e);
      else ctx.out.info(humanLine(ctx, e));
    },
    onError: (err) => io.stderr.write(`hooksync: receiver error: ${oneLine(err.message)}\n`),
  });
  // Always printed, even with -q: with --port 0 it is the only way to learn the port.
  io.stderr.write(`listening on ${server.url}\n`);
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  ctx.out.info("stopping: finishing the requests in flight");
  await server.close();
  await drain?.stop();
  await enricher.close();
  store.close();
  ctx.out.info(`stopped after ${requests} request${requests === 1 ? "" : "s"}`);
  return { url: server.url, requests };
}

export function defineServe(program: Command, context: ContextFactory): void {
  program
    .command("serve")
    .description("receive Azure DevOps and Jira webhooks: POST /hooks/vsts, POST /hooks/jira/<jwt>, GET /healthz")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0: any free port)", wholeNumber(0, 65535), 8080)
    .option("--body-limit <bytes>", "largest body accepted (413 above)", wholeNumber(1), DEFAULTS.bodyLimit)
    .option("--request-timeout <ms>", "time allowed to receive a whole request (408 after)", wholeNumber(1), DEFAULTS.requestTimeout)
    .option("--max-connections <n>", "connections open at once; more are refused", wholeNumber(1), DEFAULTS.maxConnections)
    .option("--max-buffered <bytes>", "request body bytes held in memory at once, all requests together (503 with Retry-After past it)", wholeNumber(1), DEFAULTS.maxBuffered)
    .option("--lookup-timeout <ms>", "time a Jira user lookup may take before its delivery is kept pending (202)", wholeNumber(1), DEFAULTS.lookupTimeout)
    .option("--lookup-cooldown <ms>", "after a failed lookup, wait this long before asking that Jira again and retrying pending deliveries", wholeNumber(1), DEFAULTS.lookupCooldown)
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
