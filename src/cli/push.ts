import type { Command } from "commander";
import type { PushResult, Sender } from "../outbound/send.js";
import type { Store } from "../store/store.js";
import type { Context } from "./context.js";
import { shortId } from "./short-id.js";
import { type HttpFlags, addHttpOptions, withHttp } from "./trackers.js";

export interface PushFlags extends HttpFlags {
  patStdin?: boolean;
}

/** The flags of every command that sends pushes: the tracker HTTP options and the Azure DevOps token. */
export function addPushOptions(cmd: Command): Command {
  return addHttpOptions(cmd.option("--pat-stdin", "read the Azure DevOps personal access token from stdin (else AZURE_DEVOPS_EXT_PAT)"));
}

/** Runs fn as a sender of its own, with the command's HTTP options and credentials (the token asked for once). */
export async function withSender<T>(ctx: Context, store: Store, flags: PushFlags, fn: (sender: Sender) => Promise<T>): Promise<T> {
  const { Senders } = await import("../outbound/senders.js");
  const { senderId } = await import("../outbound/send.js");
  const { commandCredentials } = await import("../trackers/credentials.js");
  const credentials = commandCredentials(ctx.deps, flags.patStdin);
  return withHttp(ctx, flags, (base) => fn({ id: senderId(ctx.deps), store, senders: new Senders(store, base, credentials, ctx.deps), clock: ctx.deps }));
}

/** One attempt on a line: what was done, or what failed and why. */
export function pushLine(r: PushResult): string {
  const where = r.kind === "discord" ? "Discord" : `${shortId(r.integration)} ${r.externalKey}`;
  const what = `${r.issue} ${r.kind === "discord" ? "notification" : r.kind} to ${where}`;
  return r.ok ? `pushed ${what}: ${r.detail}` : `${what} failed: ${r.error}`;
}

/** Each attempt on a line: successes on stdout, failures on stderr with what happens to them. */
export function renderPushes(ctx: Context, results: PushResult[]): void {
  const s = ctx.style;
  for (const r of results) {
    if (r.ok) ctx.out.text(`  ${pushLine(r).replace(/^pushed/, s.green("pushed"))}`);
    else ctx.deps.io.stderr.write(`hooksync: ${pushLine(r)}\n`);
  }
  const failed = results.filter((r) => !r.ok).length;
  if (failed > 0) ctx.out.info(`${failed} ${failed === 1 ? "push stays" : "pushes stay"} queued: 'hooksync outbound retry' sends ${failed === 1 ? "it" : "them"} again`);
}

/** After replay or simulate, which queue pushes but never send them: say so when some were queued. */
export function noteQueued(ctx: Context, store: Store, unsentBefore: number): void {
  const queued = store.outbox.unsentCount() - unsentBefore;
  if (queued > 0) ctx.out.info(`${queued} push${queued === 1 ? "" : "es"} to trackers or Discord queued: 'hooksync outbound send' sends them`);
}
