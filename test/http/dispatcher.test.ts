import { type Server, createServer } from "node:http";
import { type AddressInfo, type Socket, connect } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/http/dispatcher.js";
import { type FakeServer, startFake } from "../fakes/server.js";

let target: FakeServer<null>;
let proxy: Server;
let proxyUrl: string;
const tunnels: string[] = [];

beforeAll(async () => {
  target = await startFake({ state: null, routes: [{ method: "GET", path: "/x", handler: () => ({ status: 200, body: "direct or not" }) }], notFound: () => ({ status: 404 }) });
  // A CONNECT proxy, as corporate proxies are: it records where each tunnel goes.
  proxy = createServer();
  proxy.on("connect", (req, client: Socket, head: Buffer) => {
    tunnels.push(req.url ?? "");
    const [host, port] = (req.url ?? "").split(":");
    const upstream = connect(Number(port), host!, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await target.close();
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
});

async function get(env: Record<string, string>): Promise<number> {
  const dispatcher = createDispatcher({}, env);
  try {
    const res = await request(`${target.origin}/x`, { dispatcher });
    await res.body.text();
    return res.statusCode;
  } finally {
    await dispatcher.close();
  }
}

describe("createDispatcher", () => {
  it("goes through HTTP_PROXY, from the injected environment", async () => {
    tunnels.length = 0;
    expect(await get({ HTTP_PROXY: proxyUrl })).toBe(200);
    expect(tunnels).toEqual([target.origin.replace("http://", "")]);
  });

  it("goes direct for NO_PROXY hosts and without a proxy", async () => {
    tunnels.length = 0;
    expect(await get({ HTTP_PROXY: proxyUrl, NO_PROXY: "127.0.0.1" })).toBe(200);
    expect(await get({})).toBe(200);
    expect(tunnels).toEqual([]);
  });

  it("names an unreadable --ca-file", () => {
    expect(() => createDispatcher({ caFile: "/nonexistent/ca.pem" }, {})).toThrow("cannot read --ca-file /nonexistent/ca.pem: ENOENT");
  });
});
