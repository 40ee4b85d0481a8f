import { onTestFinished } from "vitest";
import { type RequestLog, type ServeOptions, type ServerDeps, startServer } from "../../src/receiver/server.js";
import { openStore } from "../../src/store/store.js";
import { JIRA_SECRET, VSTS_SECRET } from "../world.js";

/** Old place of the world's secrets, kept for tests written before test/world.ts held them. */
export { JIRA_SECRET, VSTS_SECRET };

const RAW_DELIVERIES =
  "SELECT id, route, headers, body, body_size AS bodySize, body_sha256 AS bodySha256, verdict, outcome, reason, identity, integration_id AS integrationId FROM deliveries ORDER BY id";

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/** A real receiver on an ephemeral loopback port over the store at db; stopped after the test. */
export async function receiver(db: string, opts: Partial<ServeOptions> = {}, deps: Partial<ServerDeps> = {}) {
  const store = await openStore(db);
  const logs: RequestLog[] = [];
  const errors: Error[] = [];
  const server = await startServer(
    store,
    { host: "127.0.0.1", port: 0, bodyLimit: 1024 * 1024, requestTimeout: 5000, maxConnections: 1024, maxBufferedBytes: 64 * 1024 * 1024, pendingIntervalMs: 30_000, ...opts },
    { now: () => new Date(), log: (e) => logs.push(e), onError: (e) => errors.push(e), ...deps },
  );
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
    await store.close();
  };
  onTestFinished(close);

  async function request(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(server.url + path, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // HEAD and Node's own 408 carry no JSON.
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }
  const json = { "content-type": "application/json; charset=utf-8" };
  return {
    url: server.url,
    port: server.port,
    store,
    logs,
    errors,
    close,
    request,
    postVsts: (body: string | Buffer, headers: Record<string, string> = { "shared-secret": VSTS_SECRET }) =>
      request("POST", "/hooks/vsts", body, { ...json, ...headers }),
    postJira: (token: string, body: string | Buffer, headers: Record<string, string> = {}) =>
      request("POST", `/hooks/jira/${token}`, body, { ...json, ...headers }),
    /** Rows of the deliveries table as stored, secrets and all, for checking what was kept. */
    rawDeliveries: () =>
      store.sql.all<{
        id: number;
        route: string;
        headers: string;
        body: Buffer | null;
        bodySize: number | null;
        bodySha256: string | null;
        verdict: number | null;
        outcome: string;
        reason: string | null;
        identity: string | null;
        integrationId: number | null;
      }>(RAW_DELIVERIES),
    count: async (table: string) => (await store.sql.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n,
  };
}
