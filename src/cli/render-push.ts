import type { PushResult } from "../outbound/send.js";
import type { Store } from "../store/store.js";
import type { Context } from "./context.js";
import { shortId } from "./short-id.js";

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
export async function noteQueued(ctx: Context, store: Store, unsentBefore: number): Promise<void> {
  const queued = (await store.outbox.unsentCount()) - unsentBefore;
  if (queued > 0) ctx.out.info(`${queued} push${queued === 1 ? "" : "es"} to trackers or Discord queued: 'hooksync outbound send' sends them`);
}
