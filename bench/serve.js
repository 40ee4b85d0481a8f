// Receiver throughput and latency on loopback: hooksync's receiver (dist/, a demo store opened
// as serve opens it, every delivery on disk before its answer) against a bare node:http server
// that reads the body and answers 200, and against a durable floor (see durableFloor), all loaded
// the same way by autocannon in the same run. The servers run in a child process so the load
// generator does not share their event loop.
//   node bench/serve.js [--seconds 5] [--runs 3] [--connections 8,64]
import autocannon from "autocannon";
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { median, runCli } from "./util.js";

const root = join(import.meta.dirname, "..");
const VSTS_SECRET = "demo-vsts-secret-change-me";

/** Reads the whole body, then calls done with its chunks. */
function onBody(req, done) {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => done(chunks));
}

function answerOk(res) {
  const text = '{"ok":true}';
  res.writeHead(200, { "content-type": "application/json", "content-length": text.length });
  res.end(text);
}

/** The child: the three servers on ephemeral loopback ports, until the parent says stop. */
async function serveAll(db) {
  const { startServer } = await import(join(root, "dist", "receiver", "server.js"));
  const { openStore } = await import(join(root, "dist", "store", "store.js"));
  // serve's own defaults, its limits included (a build without them: the limits it had).
  const d = (await import(join(root, "dist", "cli", "serve.js"))).SERVE_DEFAULTS ?? { bodyLimit: 1 << 20, requestTimeout: 10_000 };
  const store = openStore(db);
  let errors = 0;
  const receiver = await startServer(
    store,
    {
      host: "127.0.0.1",
      port: 0,
      bodyLimit: d.bodyLimit,
      requestTimeout: d.requestTimeout,
      maxConnections: d.maxConnections,
      maxBufferedBytes: d.maxBuffered,
      pendingIntervalMs: d.lookupCooldown,
    },
    { now: () => new Date(), log: () => {}, onError: () => errors++ },
  );
  const bare = createServer((req, res) => onBody(req, () => answerOk(res)));
  await new Promise((resolve) => bare.listen(0, "127.0.0.1", resolve));
  const floor = await durableFloor(join(dirname(db), "floor.db"));
  process.send({ receiver: receiver.url, bare: `http://127.0.0.1:${bare.address().port}`, floor: floor.url });
  process.on("message", async (m) => {
    // The servers' process's CPU time so far: around one server's load, what that server cost.
    if (m === "cpu") return process.send({ cpu: process.cpuUsage() });
    await receiver.close();
    bare.close();
    floor.close();
    const deliveries = store.db.prepare("SELECT outcome, count(*) AS n FROM deliveries GROUP BY outcome").all();
    store.close();
    process.send({ deliveries, errors }, () => process.exit(0));
  });
}

/**
 * The least a durable receiver can do on this machine: read the body, parse it, insert it as one
 * row, answer once the WAL is on disk, with the same group commit and WalSync as the receiver,
 * and nothing else (no verification, no sync rules, no delivery log). What the receiver can
 * never beat, however fast its own work gets.
 */
async function durableFloor(path) {
  const { default: Database } = await import("better-sqlite3");
  const { WalSync } = await import(join(root, "dist", "store", "wal-sync.js"));
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec("CREATE TABLE IF NOT EXISTS bodies (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  const wal = WalSync.open(path);
  const insert = db.prepare("INSERT INTO bodies (body) VALUES (?)");
  let queued = [];
  const flush = () => {
    const batch = queued;
    queued = [];
    db.transaction(() => batch.forEach((b) => insert.run(b.body))).immediate();
    void wal.sync().then(() => batch.forEach((b) => b.answer()));
  };
  const server = createServer((req, res) =>
    onBody(req, (chunks) => {
      const body = Buffer.concat(chunks);
      JSON.parse(body.toString("utf8"));
      if (queued.length === 0) setImmediate(flush);
      queued.push({ body, answer: () => answerOk(res) });
    }),
  );
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.close();
      wal.close();
      db.close();
    },
  };
}

/**
 * Each request a distinct notification (fresh notificationId, so none is a redelivery) that
 * reassigns BACKEND-1 back and forth: every one is applied, writing the delivery row, the
 * issue and an activity row in one transaction, synced to disk before the answer.
 */
function vstsRequests() {
  const template = readFileSync(join(root, "test", "fixtures", "vsts-workitem-updated.json"), "utf8");
  const assignees = ["Chuck Reinhart <fabrikamfiber3@hotmail.com>", "Jamal Hartnett <fabrikamfiber4@hotmail.com>"];
  const bodies = assignees.map((to) => {
    const p = JSON.parse(template);
    p.notificationId = 0;
    p.resource.fields["System.AssignedTo"] = { newValue: to };
    return JSON.stringify(p).split('"notificationId":0');
  });
  let n = 0;
  return [
    {
      method: "POST",
      path: "/hooks/vsts",
      headers: { "content-type": "application/json; charset=utf-8", "shared-secret": VSTS_SECRET },
      setupRequest: (req) => {
        n++;
        const [head, tail] = bodies[n % 2];
        return { ...req, body: `${head}"notificationId":${n}${tail}` };
      },
    },
  ];
}

/**
 * One run of autocannon; with the servers' child, also the CPU time the child spent per request,
 * which a machine busy with other work disturbs far less than requests per second.
 */
async function load(url, requests, seconds, connections, child) {
  const cpu = async () => {
    if (!child) return undefined;
    child.send("cpu");
    const { cpu: c } = await new Promise((resolve) => child.once("message", resolve));
    return c.user + c.system;
  };
  const before = await cpu();
  const result = await autocannon({ url, requests, duration: seconds, connections, pipelining: 1 });
  const after = await cpu();
  return before === undefined ? result : { ...result, cpuUsPerRequest: (after - before) / Math.max(1, result.requests.total) };
}

/** The median run of several, by requests per second; its latency and counts come with it. */
function summary(runs) {
  const rps = (r) => r.requests.average;
  const sorted = [...runs].sort((a, b) => rps(a) - rps(b));
  const m = sorted[Math.floor(sorted.length / 2)];
  return {
    requestsPerSecond: Math.round(median(runs.map(rps))),
    p50Ms: m.latency.p50,
    p99Ms: m.latency.p99,
    requests: runs.reduce((n, r) => n + r.requests.total, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
    runs: runs.map((r) => Math.round(rps(r))),
    cpuUsPerRequest: Math.round(median(runs.map((r) => r.cpuUsPerRequest ?? 0))),
  };
}

/**
 * The three servers at each concurrency, each a median of several runs taken in turn (bare, floor,
 * receiver, bare, ...), so a slow stretch of the machine weighs on all three alike. A durable
 * receiver's throughput grows with concurrency (one WAL sync serves every delivery waiting for
 * it) while the bare server's does not, so one level alone would tell only half of it.
 */
export async function benchServe({ seconds = 5, runs = 3, connections = [8, 64] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "hooksync-bench-serve-"));
  try {
    const db = join(dir, "serve.db");
    await runCli(["init", "--demo", "--db", db, "-q"]);
    const child = fork(import.meta.filename, ["--child", db]);
    const urls = await new Promise((resolve) => child.once("message", resolve));
    const requests = vstsRequests();
    // Warm all three (JIT, page cache, the WALs grown to their working size) before measuring:
    // the receiver's first seconds run a third slower than its steady state.
    await load(urls.bare, requests, 3, connections[0]);
    await load(urls.floor, requests, 3, connections[0]);
    await load(urls.receiver, requests, 5, connections[0]);
    const levels = [];
    for (const c of connections) {
      const taken = { bare: [], floor: [], receiver: [] };
      for (let i = 0; i < runs; i++) {
        for (const server of ["bare", "floor", "receiver"]) taken[server].push(await load(urls[server], requests, seconds, c, child));
      }
      const [bare, floor, receiver] = [summary(taken.bare), summary(taken.floor), summary(taken.receiver)];
      levels.push({
        connections: c,
        bare,
        floor,
        receiver,
        ratio: receiver.requestsPerSecond / bare.requestsPerSecond,
        floorRatio: floor.requestsPerSecond / bare.requestsPerSecond,
        ofFloor: receiver.requestsPerSecond / floor.requestsPerSecond,
      });
    }
    child.send("stop");
    const end = await new Promise((resolve) => child.once("message", resolve));
    return { seconds, runs, levels, ...end };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") {
  await serveAll(process.argv[3]);
} else if (import.meta.filename === process.argv[1]) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? fallback : process.argv[i + 1];
  };
  const r = await benchServe({
    seconds: Number(arg("--seconds", 5)),
    runs: Number(arg("--runs", 3)),
    connections: arg("--connections", "8,64").split(",").map(Number),
  });
  const rows = [
    ["server", "connections", "req/s (median)", "runs", "CPU us/req", "p50 ms", "p99 ms", "requests", "non-2xx", "errors"],
    ...r.levels.flatMap((l) =>
      [
        ["bare node:http", l.bare],
        ["durable floor", l.floor],
        ["hooksync receiver", l.receiver],
      ].map(([name, s]) => [name, String(l.connections), String(s.requestsPerSecond), s.runs.join(" "), String(s.cpuUsPerRequest), String(s.p50Ms), String(s.p99Ms), String(s.requests), String(s.non2xx), String(s.errors)]),
    ),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i])).join("  "));
  for (const l of r.levels) {
    console.log(`\nat ${l.connections} connections (median of ${r.runs} runs of ${r.seconds} s, loopback): receiver / bare ${l.ratio.toFixed(3)}, durable floor / bare ${l.floorRatio.toFixed(3)}, receiver / durable floor ${l.ofFloor.toFixed(3)}`);
  }
  console.log(`deliveries recorded: ${r.deliveries.map((d) => `${d.n} ${d.outcome}`).join(", ")}; store errors: ${r.errors}`);
}
