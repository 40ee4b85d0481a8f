import { PartialFailure } from "../errors.js";
import type { SendResult } from "../receiver/send.js";
import type { Context } from "./context.js";

/** Prints what the receiver answered (`--json`: `{ url, status, answer }`); a non-2xx answer fails the command. */
export function reportSent(ctx: Context, r: SendResult): void {
  if (ctx.json) ctx.out.jsonLine(r);
  else {
    const s = ctx.style;
    const ok = r.status >= 200 && r.status < 300;
    // Not providers/schema's isObject: that module loads valibot, and every command loads this one.
    const a: Record<string, unknown> = typeof r.answer === "object" && r.answer !== null ? (r.answer as Record<string, unknown>) : {};
    const detail = [a.outcome, a.reason].filter((x) => typeof x === "string").join(": ") || (typeof r.answer === "string" ? r.answer.trim() : "");
    const delivery = typeof a.delivery === "number" ? ` ${s.dim(`(delivery ${a.delivery})`)}` : "";
    ctx.out.text(`${(ok ? s.green : s.red)(String(r.status))} ${r.url}${detail ? ` ${detail}` : ""}${delivery}`);
  }
  if (r.status < 200 || r.status >= 300) throw new PartialFailure(`the receiver answered ${r.status}`, "its answer is above");
}
