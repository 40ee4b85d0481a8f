import { statSync } from "node:fs";
import { Agent, request } from "node:http";
import { connect, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixture, spawnServe } from "../helpers.js";
import { world } from "../world.js";

const MiB = 1024 * 1024;

/** POSTs body to url with up to `parallel` requests in flight; the statuses, in no order. */
async function flood(url: string, body: Buffer, headers: Record<string, string>, count: number, parallel: number): Promise<Map<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const statuses = new Map<number, number>();
  let sent = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(url, { method: "POST", agent, headers: { ...headers, "content-length": body.length } }, (res) => {
        statuses.set(res.statusCode!, (statuses.get(res.statusCode!) ?? 0) + 1);
        res.resume().on("end", resolve);
      });
      req.on("error", reject);
      req.end(body);
    });
  const worker = async () => {
    while (sent < count) {
      sent++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  agent.destroy();
  return statuses;
}

const size = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** The resident memory of a process, from /proc (Linux). */
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

describe("hostile traffic against serve", () => {
  it("keeps the store under 50 MB after 10,000 refused requests of 1 MiB each", async () => {
    const w = await world();
    const serve = spawnServe(["--db", w.db]);
    const url = await serve.url;
    // A real-shaped notification padded to 1 MiB, sent without the secret header: each is refused
    // (401) and keeps its first 4 KiB, its size and its hash.
    const payload = JSON.parse(readFileSync(fixture("vsts-workitem-updated.json"), "utf8"));
    const bare = Buffer.byteLength(JSON.stringify({ ...payload, padding: "" }));
    const body = Buffer.from(JSON.stringify({ ...payload, padding: "x".repeat(MiB - bare) }));
    expect(body.length).toBe(MiB);
    const statuses = await flood(`${url}/hooks/vsts`, body, { "content-type": "application/json" }, 10_000, 8);
    expect(Object.fromEntries(statuses)).toEqual({ 401: 10_000 });
    expect(await serve.stop()).toBe(0);
    const bytes = size(w.db) + size(`${w.db}-wal`);
    console.log(`store after 10,000 refused 1 MiB requests: ${(bytes / MiB).toFixed(1)} MB`);
    expect(bytes).toBeLessThan(50 * MiB);
  }, 240_000);

  it("keeps RSS under 256 MB and /healthz answering while 1,000 uploads of ~1 MiB stall", async () => {
    const w = await world();
    const serve = spawnServe(["--db", w.db, "--request-timeout", "60000"]);
    const url = new URL(await serve.url);
    const chunk = Buffer.alloc(MiB - 1024, "x");
    const sockets: Socket[] = [];
    const written: Promise<void>[] = [];
    for (let n = 0; n < 1000; n++) {
      const s = connect(Number(url.port), url.hostname);
      s.on("error", () => {});
      sockets.push(s);
      // Each sends its headers and most of a 1 MiB body, then nothing more.
      written.push(
        new Promise<void>((resolve) => {
          s.once("close", () => resolve());
          s.write(`POST /hooks/vsts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MiB}\r\n\r\n`);
          s.write(chunk, () => resolve());
        }),
      );
    }
    await Promise.all(written);
    const rss = rssMb(serve.child.pid!);
    console.log(`serve RSS with 1,000 stalled uploads: ${rss.toFixed(0)} MB`);
    expect(rss).toBeLessThan(256);
    expect((await fetch(`${url.origin}/healthz`)).status).toBe(200);
    for (const s of sockets) s.destroy();
    expect(await serve.stop()).toBe(0);
  }, 120_000);
});
