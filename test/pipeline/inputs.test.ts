import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { MAX_PAYLOAD_BYTES, readPayloads, type RawPayload } from "../../src/pipeline/inputs.js";

/** Feeds text in chunks of `size` bytes, so payloads straddle chunk boundaries. */
async function read(text: string | Buffer, size = 7): Promise<RawPayload[]> {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  const out: RawPayload[] = [];
  for await (const p of readPayloads(Readable.from(chunks), "in")) out.push(p);
  return out;
}
const values = (ps: RawPayload[]) => ps.map((p) => (p.body.ok ? p.body.value : { error: p.body.reason }));

describe("readPayloads", () => {
  it("reads one compact object, labelled by the input alone", async () => {
    const ps = await read('{"a":1}\n');
    expect(ps).toEqual([{ source: "in", body: { ok: true, value: { a: 1 } } }]);
  });

  it("reads one pretty-printed document", async () => {
    const ps = await read(JSON.stringify({ a: { b: [1, 2] }, c: "x\ny" }, null, 2));
    expect(ps).toHaveLength(1);
    expect(ps[0]!.source).toBe("in");
    expect(values(ps)).toEqual([{ a: { b: [1, 2] }, c: "x\ny" }]);
  });

  it("reads NDJSON, labelling each payload by its line and skipping blank lines", async () => {
    const ps = await read('{"a":1}\n\n{"a":2}\r\n{"a":3}');
    expect(ps.map((p) => p.source)).toEqual(["in:1", "in:3", "in:4"]);
    expect(values(ps)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  it("streams a JSON array element by element, labelled by index", async () => {
    const ps = await read('[ {"s":"a,]}\\"["}, {"n":[1,{"m":2}]} ,{"z":null} ]');
    expect(ps.map((p) => p.source)).toEqual(["in:0", "in:1", "in:2"]);
    expect(values(ps)).toEqual([{ s: 'a,]}"[' }, { n: [1, { m: 2 }] }, { z: null }]);
  });

  it("reports a broken NDJSON line and goes on with the next", async () => {
    const ps = await read('{"a":1}\n{"a": \n{"a":3}\n');
    expect(ps.map((p) => p.body.ok)).toEqual([true, false, true]);
    expect(ps[1]).toMatchObject({ source: "in:2", body: { ok: false, reason: expect.stringMatching(/^not valid JSON: /) } });
  });

  it("reads a truncated first NDJSON line as a broken line, not as the start of a document", async () => {
    const ps = await read('{"a":"trunc\n{"a":2}\n');
    expect(values(ps)).toEqual([{ error: expect.stringMatching(/^not valid JSON/) }, { a: 2 }]);
  });

  it("reports a truncated array", async () => {
    const ps = await read('[{"a":1},{"a":');
    expect(values(ps)).toEqual([{ a: 1 }, { error: "truncated JSON array: no closing ]" }]);
  });

  it("reports text after an array", async () => {
    const ps = await read('[{"a":1}] {"b":2}');
    expect(values(ps)).toEqual([{ a: 1 }, { error: "text after the closing ] of the array" }]);
  });

  it("reports an empty input", async () => {
    expect(values(await read(""))).toEqual([{ error: "empty input: no payload in it" }]);
    expect(values(await read("  \n\n "))).toEqual([{ error: "empty input: no payload in it" }]);
  });

  it("reports a binary file once", async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
    expect(values(await read(png))).toEqual([{ error: "binary data, not JSON" }]);
  });

  it("reports invalid UTF-8 instead of decoding it to replacement characters", async () => {
    const bad = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n{"a":"ok"}\n')]);
    expect(values(await read(bad))).toEqual([{ error: "not valid UTF-8" }, { a: "ok" }]);
  });

  it("refuses a line over the payload limit and keeps reading", async () => {
    const huge = `{"a":"${"x".repeat(MAX_PAYLOAD_BYTES)}"}`;
    const ps = await read(`${huge}\n{"b":1}\n`, 1024 * 1024);
    expect(values(ps)).toEqual([{ error: "payload over 16 MiB" }, { b: 1 }]);
  });

  it("keeps duplicate keys' last value and __proto__ as plain data", async () => {
    const ps = await read('{"a":1,"a":2,"__proto__":{"polluted":true}}');
    const v = values(ps)[0] as Record<string, unknown>;
    expect(v.a).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
