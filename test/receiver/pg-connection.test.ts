import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, spawnServe, tempDir } from "../helpers.js";
import { freshDatabase, pgUrl } from "../pg.js";
import { VSTS_SECRET, datasetFile, fullDataset, loadFixture } from "../world.js";

const dir = tempDir();
afterAll(dir.cleanup);
const stores = pgUrl ? { cut: await freshDatabase("serve_cut"), pool: await freshDatabase("serve_pool") } : null;
const nameOf = (url: string) => new URL(url).pathname.slice(1);

/** One statement on the server's admin connection (a database of its own: cutting a store's connections spares it). */
async function admin<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: pgUrl! });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Connections open to the store's database (serve's, while no one else connects there). */
const connections = async (url: string) =>
  (await admin<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [nameOf(url)]))[0]!.n;

/** What an administrator or a failover does: every connection to the store's database ended by the server. */
const cutConnections = async (url: string) =>
  (await admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [nameOf(url)])).length;

/** The deliveries of these ids the store holds. */
const recorded = async (url: string, ids: number[]) => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ id: string }>("SELECT id FROM deliveries WHERE id = ANY($1::bigint[]) ORDER BY id", [ids])).rows.map((r) => Number(r.id));
  } finally {
    await client.end();
  }
};

const FIXTURE = loadFixture("vsts-workitem-updated.json");
let notification = 0;

/** A VSTS notification of its own (a new notificationId and revision) about the work item. */
function notificationAbout(workItem: number): string {
  const p = structuredClone(FIXTURE);
  delete p.message;
  delete p.detailedMessage;
  p.notificationId = 10_000 + ++notification;
  p.resource.workItemId = p.resource.revision.id = workItem;
  p.resource.rev = p.resource.revision.rev = 100 + notification;
  return JSON.stringify(p);
}

interface Answered {
  /** 0: no answer (the connection failed: serve is gone). */
  status: number;
  retryAfter: string | null;
  delivery: number | null;
}

async function deliver(url: string, workItem = 5): Promise<Answered> {
  let res: Response;
  try {
    res = await fetch(`${url}/hooks/vsts`, {
      method: "POST",
      headers: { "content-type": "application/json", "shared-secret": VSTS_SECRET },
      body: notificationAbout(workItem),
    });
  } catch {
    return { status: 0, retryAfter: null, delivery: null };
  }
  const body = (await res.json()) as { delivery: number | null };
  return { status: res.status, retryAfter: res.headers.get("retry-after"), delivery: body.delivery };
}

/** Bursts cut: before pg-backend listened for a connection's errors from its checkout, 4 crashed serve every time. */
const ROUNDS = 4;

/** 200 and recorded, or 503 asking to come back: what a tracker may be told while the store's connections are cut. */
const retryable = (a: Answered) => a.status === 200 || (a.status === 503 && a.retryAfter === "5");

describe.skipIf(!stores)("serve on a PostgreSQL store whose connections fail (issue 13)", () => {
  beforeAll(async () => {
    for (const db of Object.values(stores!)) {
      expect((await run(["init", "--db", db])).code).toBe(0);
      const imported = await run(["import", datasetFile(dir.path, fullDataset()), "--db", db]);
      expect(imported.code, imported.stderr).toBe(0);
    }
  });

  it("keeps running when PostgreSQL ends its connections: 503 with Retry-After or a fresh connection, then 200 and recorded again", async () => {
    const db = stores!.cut;
    const s = spawnServe(["--db", db]);
    const url = await s.url;
    const answers: Answered[] = [await deliver(url)];
    expect(answers[0]!.status).toBe(200);

    // Cut while idle: the pool holds connections the server has ended.
    expect(await cutConnections(db)).toBeGreaterThan(0);
    await expect.poll(() => connections(db)).toBe(0);
    const afterIdleCut = await deliver(url);
    expect(afterIdleCut, JSON.stringify(afterIdleCut)).toSatisfy(retryable);
    answers.push(afterIdleCut);

    // Cut while deliveries of other work items are in flight, each in a transaction of its own,
    // some on connections being made: a few rounds, so a cut lands in each moment of a connection's life.
    for (let round = 0; round < ROUNDS; round++) {
      const burst = Array.from({ length: 20 }, (_, i) => deliver(url, 300 + i));
      const cut = await cutConnections(db);
      const burstAnswers = await Promise.all(burst);
      for (const a of burstAnswers) expect(a, `round ${round}, ${cut} connections cut: ${JSON.stringify(a)}; serve said: ${s.output().stderr.slice(-2000)}`).toSatisfy(retryable);
      answers.push(...burstAnswers);
    }

    // The pool connects again: the next deliveries are applied and answered 200.
    for (let i = 0; i < 5; i++) {
      const a = await deliver(url);
      expect(a.status).toBe(200);
      answers.push(a);
    }
    expect(s.child.exitCode).toBeNull();
    const ok = answers.filter((a) => a.status === 200).map((a) => a.delivery!);
    expect(await recorded(db, ok)).toEqual([...ok].sort((a, b) => a - b));

    expect(await s.stop()).toBe(0);
    const { stderr } = s.output();
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).toMatch(new RegExp(`stopped after ${answers.length} requests`));
  });

  it("holds at most --pool-size connections while many deliveries are in flight", async () => {
    const db = stores!.pool;
    for (const poolSize of [2, 5]) {
      const s = spawnServe(["--db", db, "--pool-size", String(poolSize)]);
      const url = await s.url;
      // One delivery first, so the process holds its id worker lease before the burst: IdLease.prepare
      // called by many transactions at once, with none held yet, leases a worker for each of them.
      expect((await deliver(url, 999)).status).toBe(200);
      let inFlight = true;
      // Deliveries of 40 work items: no order to keep between them, so each may take a connection.
      const answers = Promise.all(Array.from({ length: 40 }, (_, i) => deliver(url, 1000 + i))).finally(() => (inFlight = false));
      let most = 0;
      while (inFlight) most = Math.max(most, await connections(db));
      // The pool keeps its connections a while once idle: counted once more, nothing escapes.
      most = Math.max(most, await connections(db));
      expect((await answers).map((a) => a.status)).toEqual(Array(40).fill(200));
      expect(most, `pool size ${poolSize}`).toBeLessThanOrEqual(poolSize);
      expect(most, `pool size ${poolSize}`).toBeGreaterThan(poolSize === 2 ? 1 : 2);
      expect(await s.stop()).toBe(0);
      await expect.poll(() => connections(db)).toBe(0);
    }
  });
});
