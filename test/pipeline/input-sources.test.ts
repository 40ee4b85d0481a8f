import { unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { readSource, resolveInputs } from "../../src/pipeline/input-sources.js";
import type { RawPayload } from "../../src/pipeline/inputs.js";
import { tempDir } from "../helpers.js";

const dir = tempDir();
afterAll(dir.cleanup);

describe("readSource", () => {
  it("reads a file removed after it was listed as one rejected input, and goes on with the next", async () => {
    writeFileSync(join(dir.path, "gone.json"), "{}");
    writeFileSync(join(dir.path, "kept.json"), '{"a":1}');
    const sources = await resolveInputs(["gone.json", "kept.json"], Readable.from([]), dir.path);
    unlinkSync(join(dir.path, "gone.json"));
    const out: RawPayload[] = [];
    for (const src of sources) for await (const batch of readSource(src, () => {})) out.push(...batch);
    expect(out).toEqual([
      { source: "gone.json", body: { ok: false, reason: "cannot read it (ENOENT)" } },
      { source: "kept.json", body: { ok: true, value: { a: 1 } } },
    ]);
  });

});
