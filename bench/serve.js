// Receiver throughput and latency on loopback: hooksync's receiver (dist/, a demo store opened
// as serve opens it, every delivery on disk before its answer) against a bare node:http server
// that reads the body and answers 200, and against a durable floor (see durableFloor), all loaded
// the same way by autocannon in the same run. The servers run in a child process so the load
// generator does not share their event loop.
//   node bench/serve.js [--seconds 5] [--runs 3] [--connections 8,64]
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { answerOk, load, onBody, summary, vstsRequests } from "./load.js";
import { runCli } from "./util.js";

const root = join(import.meta.dirname, "..");

/** The child: the three servers on ephemeral loopback ports, until the parent says stop. */
async function serveAll(db) {
  const { startServer } = await import(join(root, "dist", "receiver", "server.js"));
  const { openStore } = await import(join(root, "dist", "store", "store.js"));
  // serve's own defaults, its limits included (a build without them: the limits it had).
  const d = (await import(join(root, "dist", "cli", "serve.js"))).SERVE_DEFAULTS ?? { bodyLimit: 1 << 20, requestTimeout: 10_000 };
  const store = await openStore(db);
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
    if (m === "cpu") return process.send({ cpu: process.cpuUsage() });
    await receiver.close();
    bare.close();
    floor.close();
    const deliveries = await store.sql.all("SELECT outcome, count(*) AS n FROM deliveries GROUP BY outcome");
    await store.close();
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
    // The servers' process's CPU time so far: around one server's load, what that server cost.
    const cpu = async () => {
      child.send("cpu");
      const { cpu: c } = await new Promise((resolve) => child.once("message", resolve));
      return c.user + c.system;
    };
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
        for (const server of ["bare", "floor", "receiver"]) taken[server].push(await load(urls[server], requests, seconds, c, cpu));
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
