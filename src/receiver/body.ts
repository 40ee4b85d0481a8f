import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";

/**
 * Bytes of request bodies held in memory across every request in flight. A request that would
 * go past it is answered 503 at once, so stalled uploads cannot grow the receiver without bound.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used -= n;
  }

  get inUse(): number {
    return this.used;
  }
}

export type BodyRead = { kind: "body"; bytes: Buffer } | { kind: "over" } | { kind: "busy" } | { kind: "gone" };

/**
 * Buffers the body up to the limit, each chunk taken from the budget (the caller gives back
 * bytes.length once the delivery is answered). Past the limit or the budget it stops at once, and
 * gives back what it took: the caller answers 413 or 503 and closes.
 */
export function readBody(req: IncomingMessage, limit: number, budget: BodyBudget): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (r: BodyRead) => {
      req.off("data", onData).off("end", onEnd).off("close", onGone);
      if (r.kind !== "body") budget.give(size);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit) return done({ kind: "over" });
      if (!budget.take(chunk.length)) return done({ kind: "busy" });
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => done({ kind: "body", bytes: Buffer.concat(chunks, size) });
    const onGone = () => done({ kind: "gone" });
    // An aborted request emits 'error' only when someone listens; 'close' tells us the same.
    req.on("error", () => {});
    req.on("data", onData).on("end", onEnd).on("close", onGone);
  });
}

/** What a refused request keeps of its body: the first bytes, the size and a hash of the whole. */
export const REFUSED_BODY_KEPT = 4096;

export function refusedBody(bytes: Buffer | null): { body: Buffer | null; bodySize: number | null; bodySha256: string | null } {
  if (bytes === null) return { body: null, bodySize: null, bodySha256: null };
  if (bytes.length <= REFUSED_BODY_KEPT) return { body: bytes, bodySize: bytes.length, bodySha256: null };
  return {
    // A copy: a view would keep the whole received buffer alive as long as the row's bytes.
    body: Buffer.from(bytes.subarray(0, REFUSED_BODY_KEPT)),
    bodySize: bytes.length,
    bodySha256: createHash("sha256").update(bytes).digest("hex"),
  };
}
