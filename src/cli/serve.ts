import { type Command, Option } from "commander";
import type { RequestLog, ServeOptions } from "../receiver/server.js";
import type { Context, ContextFactory } from "./context.js";
import { duration, wholeNumber } from "./numbers.js";
import { describePruned } from "./render-pruned.js";
import { oneLine } from "./safe-text.js";

// Kept here rather than imported from the receiver, so `hooksync --help` loads no node:http.
const DEFAULT_BODY_LIMIT = 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT = 10_000;
const DEFAULT_RETAIN = "30d";

/** `--retain`: how long deliveries are kept, in ms; 0 keeps them all. */
type RetainOption = { retain?: number };

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
export async function runServe(ctx: Context, opts: ServeOptions & RetainOption, signal: AbortSignal): Promise<ServeSummary> {
  const store = await ctx.store();
  const { startServer } = await import("../receiver/server.js");
  const { AssigneeEnricher } = await import("../pipeline/enrich.js");
  const { io } = ctx.deps;
  const enricher = new AssigneeEnricher({ deps: ctx.deps, note: (line) => ctx.out.verbose(oneLine(line)) });
  let requests = 0;
  const server = await startServer(store, opts, {
    now: ctx.deps.now,
    enrich: (delivery, integration) => enricher.enrich(store, delivery, integration),
    log: (e) => {
      requests++;
      if (ctx.json) ctx.out.jsonLine(e);
      else ctx.out.info(humanLine(ctx, e));
    },
    onError: (err) => io.stderr.write(`hooksync: receiver error: ${oneLine(err.message)}\n`),
  });
  const { startRetention } = await import("../receiver/retention.js");
  const retainMs = opts.retain ?? duration()(DEFAULT_RETAIN);
  const retention = startRetention(store, {
    retainMs,
    now: ctx.deps.now,
    onPass: (r) => {
      if (r.deleted + r.stripped > 0) ctx.out.verbose(describePruned(r, retainMs));
    },
    onError: (err) => io.stderr.write(`hooksync: retention error: ${oneLine(err.message)}\n`),
  });
  // Always printed, even with -q: with --port 0 it is the only way to learn the port.
  io.stderr.write(`listening on ${server.url}\n`);
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  ctx.out.info("stopping: finishing the requests in flight");
  await retention.stop();
  await server.close();
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
    .option("--body-limit <bytes>", "largest body accepted (413 above)", wholeNumber(1), DEFAULT_BODY_LIMIT)
    .option("--request-timeout <ms>", "time allowed to receive a whole request (408 after)", wholeNumber(1), DEFAULT_REQUEST_TIMEOUT)
    .addOption(
      new Option("--retain <duration>", "prune deliveries older than this in the background: 90m, 12h, 30d; 0 keeps all")
        .argParser(duration({ zero: "to keep all" }))
        .default(duration()(DEFAULT_RETAIN), DEFAULT_RETAIN),
    )
    .action(async (opts: ServeOptions & RetainOption, cmd: Command) => {
      const ctx = context(cmd);
      const stop = new AbortController();
      // A second Ctrl-C finds no handler left and ends the process at once, as people expect.
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await runServe(ctx, opts, stop.signal);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
