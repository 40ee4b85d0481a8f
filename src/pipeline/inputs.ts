import type { Delivery } from "./delivery.js";

export type RawPayload = Pick<Delivery, "source" | "body">;

/** One payload larger than this is refused, so a file without newlines cannot eat the memory. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

const NEWLINE = 0x0a;
const SNIFF_BYTES = 8192;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** One payload's bytes as the pipeline takes them: parsed JSON, or why not (strict UTF-8). */
export function decodeJson(bytes: Uint8Array): RawPayload["body"] {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: "not valid UTF-8" };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, reason: `not valid JSON: ${(err as Error).message}` };
  }
}

const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/** Concatenates chunk pieces only when a payload spans chunks (rare: a file's chunks are 1 MiB). */
class Pieces {
  parts: Buffer[] = [];
  size = 0;
  overflow = false;
  push(b: Buffer): void {
    if (this.overflow) return;
    if (this.size + b.length > MAX_PAYLOAD_BYTES) {
      this.overflow = true;
      this.parts = [];
      return;
    }
    this.parts.push(b);
    this.size += b.length;
  }
  take(): Buffer | "overflow" {
    const out = this.overflow ? "overflow" : this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    this.overflow = false;
    return out;
  }
}

const tooLarge = { ok: false as const, reason: `payload over ${MAX_PAYLOAD_BYTES / 1024 / 1024} MiB` };

/** The payloads of one stream one at a time (see readBatches). */
export async function* readPayloads(
  stream: AsyncIterable<Buffer>,
  label: string,
  onBytes?: (n: number) => void,
): AsyncGenerator<RawPayload> {
  for await (const batch of readBatches(stream, label, onBytes)) yield* batch;
}

export type Batches = AsyncGenerator<RawPayload[]>;

/**
 * The payloads of one stream, read with constant memory: a JSON array (streamed element by
 * element), NDJSON (one per line), or one pretty-printed document. Each batch holds the
 * payloads one read of the input completed, so a caller can apply a batch in one transaction
 * without ever holding it open across a wait for input. `onBytes` reports progress.
 */
export async function* readBatches(
  stream: AsyncIterable<Buffer>,
  label: string,
  onBytes: (n: number) => void = () => {},
): Batches {
  const it = stream[Symbol.asyncIterator]();
  // Look at the first 8 KiB (or all of a smaller input) to choose the format and spot binary data.
  let start = -1;
  let headBytes = 0;
  const head: Buffer[] = [];
  while (start === -1 || headBytes < SNIFF_BYTES) {
    const r = await it.next();
    if (r.done) break;
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    onBytes(chunk.length);
    head.push(chunk);
    headBytes += chunk.length;
    if (start === -1) start = chunk.findIndex((b) => !isSpace(b));
  }
  if (start === -1) {
    yield [{ source: label, body: { ok: false, reason: "empty input: no payload in it" } }];
    return;
  }
  const first = head.length === 1 ? head[0]! : Buffer.concat(head);
  if (first.subarray(0, SNIFF_BYTES).includes(0)) {
    yield [{ source: label, body: { ok: false, reason: "binary data, not JSON" } }];
    return;
  }
  const rest: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const r = await it.next();
        if (!r.done) onBytes(r.value.length);
        return r;
      },
    }),
  };
  const firstNonSpace = first.findIndex((b) => !isSpace(b));
  if (first[firstNonSpace] === 0x5b /* [ */) yield* arrayElements(first, rest, label);
  else yield* lines(first, rest, label);
}

/** Drops the empty batches of chunks that completed no payload. */
async function* nonEmpty(first: RawPayload[], rest: AsyncIterable<RawPayload[]>): Batches {
  if (first.length) yield first;
  for await (const b of rest) if (b.length) yield b;
}

async function* lines(first: Buffer, rest: AsyncIterable<Buffer>, label: string): Batches {
  const pending = new Pieces();
  let lineNo = 0;
  let held: { line: number; bytes: Buffer | "overflow" } | undefined;
  let emitted = 0;
  let documentMode = false;
  const doc = new Pieces();

  const emit = (line: number, bytes: Buffer | "overflow"): RawPayload => ({
    source: `${label}:${line}`,
    body: bytes === "overflow" ? tooLarge : decodeJson(bytes),
  });

  function* feed(chunk: Buffer): Generator<RawPayload> {
    if (documentMode) {
      doc.push(chunk);
      return;
    }
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl === -1) {
        if (from < chunk.length) pending.push(chunk.subarray(from));
        return;
      }
      pending.push(chunk.subarray(from, nl));
      from = nl + 1;
      lineNo++;
      const bytes = pending.take();
      if (bytes !== "overflow" && bytes.every(isSpace)) continue;
      if (emitted === 0 && held === undefined && bytes !== "overflow" && isDocumentStart(bytes)) {
        // A pretty-printed document: its first line alone ("{") is not JSON.
        documentMode = true;
        doc.push(bytes);
        doc.push(Buffer.from("\n"));
        doc.push(chunk.subarray(from));
        return;
      }
      // Hold one payload back so a file with a single payload is labelled without a line number.
      if (held) {
        yield emit(held.line, held.bytes);
        emitted++;
      }
      held = { line: lineNo, bytes };
    }
  }

  yield* nonEmpty([...feed(first)], mapChunks(rest, (c) => [...feed(c)]));
  if (documentMode) {
    const bytes = doc.take();
    yield [{ source: label, body: bytes === "overflow" ? tooLarge : decodeJson(bytes) }];
    return;
  }
  const last: RawPayload[] = [];
  const tail = pending.take();
  if (tail === "overflow" || !tail.every(isSpace)) {
    lineNo++;
    if (held) {
      last.push(emit(held.line, held.bytes));
      emitted++;
    }
    held = { line: lineNo, bytes: tail };
  }
  if (held) {
    const p = emit(held.line, held.bytes);
    last.push(emitted === 0 ? { ...p, source: label } : p);
  }
  if (last.length) yield last;
}

async function* mapChunks(chunks: AsyncIterable<Buffer>, f: (c: Buffer) => RawPayload[]): AsyncGenerator<RawPayload[]> {
  for await (const c of chunks) yield f(c);
}

/**
 * A pretty-printed document opens with a line that is not JSON alone: "{", or `{ "a": 1,`. A
 * truncated or broken NDJSON line is not JSON either, but it does not end in an opener or a comma.
 */
function isDocumentStart(line: Buffer): boolean {
  const text = line.toString("utf8").trim();
  return text.startsWith("{") && /[{[,]$/.test(text);
}

async function* arrayElements(first: Buffer, rest: AsyncIterable<Buffer>, label: string): Batches {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let index = 0;
  let closed = false;
  let trailing = false;
  const element = new Pieces();
  let elementStart = -1;

  function* scan(chunk: Buffer): Generator<RawPayload> {
    elementStart = depth >= 1 && !closed ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (closed) {
        if (!isSpace(b)) trailing = true;
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (b === 0x5c) escaped = true;
        else if (b === 0x22) inString = false;
        continue;
      }
      if (b === 0x22) inString = true;
      else if (b === 0x5b || b === 0x7b) {
        depth++;
        if (depth === 1) {
          elementStart = i + 1;
          continue;
        }
      } else if (b === 0x5d || b === 0x7d || (b === 0x2c && depth === 1)) {
        if (depth === 1) {
          element.push(chunk.subarray(elementStart, i));
          const bytes = element.take();
          const empty = bytes !== "overflow" && bytes.every(isSpace);
          if (!empty) yield { source: `${label}:${index++}`, body: bytes === "overflow" ? tooLarge : decodeJson(bytes) };
          else if (b === 0x2c) yield { source: `${label}:${index++}`, body: { ok: false, reason: "empty array element" } };
          elementStart = i + 1;
          if (b !== 0x2c) closed = true;
        }
        if (b !== 0x2c) depth--;
      }
    }
    if (!closed && depth >= 1 && elementStart !== -1) element.push(chunk.subarray(elementStart));
  }

  yield* nonEmpty([...scan(first)], mapChunks(rest, (c) => [...scan(c)]));
  if (!closed) yield [{ source: `${label}:${index}`, body: { ok: false, reason: "truncated JSON array: no closing ]" } }];
  else if (trailing) yield [{ source: label, body: { ok: false, reason: "text after the closing ] of the array" } }];
}
