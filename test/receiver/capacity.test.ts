import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { fixture } from "../helpers.js";
import { backends, storeTargets } from "../pg.js";
import { VSTS_SECRET, world } from "../world.js";
import { receiver } from "./harness.js";

const stores = storeTargets("receiver_capacity");

const VSTS_UPDATED = readFileSync(fixture("vsts-workitem-updated.json"));

/** A raw connection that sends the start of a request and then nothing more. */
async function stalled(port: number, head: string): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(head);
  return socket;
}

describe.each(backends)("serve: capacity on %s", (backend) => {
  const freshWorld = async () => world(await stores(backend));

  it("answers 503 with Retry-After when bodies held in memory would pass --max-buffered, keeps /healthz up, and serves again once they are gone", async () => {
    const w = await freshWorld();
    const r = await receiver(w.db, { maxBufferedBytes: 10_000 });
    const upload = await stalled(
      r.port,
      `POST /hooks/vsts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nShared-Secret: ${VSTS_SECRET}\r\nContent-Length: 9000\r\n\r\n${"x".repeat(8000)}`,
    );
    // The 8,000 bytes held leave no room for another body of 6.5 KB.
    await expect
      .poll(async () => {
        const res = await r.postVsts(VSTS_UPDATED);
        return [res.status, res.headers.get("retry-after")];
      })
      .toEqual([503, "5"]);
    expect((await r.request("GET", "/healthz")).status).toBe(200);
    upload.destroy();
    await expect.poll(async () => (await r.postVsts(VSTS_UPDATED)).status).toBe(200);
  });

  it("refuses at once a declared body the budget cannot hold", async () => {
    const w = await freshWorld();
    const r = await receiver(w.db, { maxBufferedBytes: 4_000 });
    const res = await r.postVsts(VSTS_UPDATED);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ outcome: "rejected", reason: "the receiver holds 4000 bytes of bodies already, try again", delivery: expect.any(Number) });
    expect(await r.rawDeliveries()).toMatchObject([{ verdict: 503, body: null }]);
  });

  it("accepts no more than --max-connections connections at once", async () => {
    const w = await freshWorld();
    const r = await receiver(w.db, { maxConnections: 2 });
    const held = [await stalled(r.port, "POST /hooks/vsts HTTP/1.1\r\n"), await stalled(r.port, "POST /hooks/vsts HTTP/1.1\r\n")];
    const third = connect(r.port, "127.0.0.1");
    third.on("error", () => {});
    // Node closes a connection past the cap as soon as it accepts it.
    await new Promise<void>((resolve) => third.on("close", () => resolve()));
    held[0]!.destroy();
    await expect.poll(async () => (await r.request("GET", "/healthz").catch(() => ({ status: 0 }))).status).toBe(200);
    held[1]!.destroy();
  });
});
