// Serve on PostgreSQL: `hooksync serve --db <pg url>` (the built CLI, as child processes) on a
// database holding the bench dataset (workload.js), against the raw `pg` floor
// (pg-floor-server.js), each loaded by autocannon with deliveries spread over 1,000 work items. One
// receiver, then two serve processes on the same database loaded at the same time, each by its
// own autocannon, their throughput summed; likewise one and two floor servers on one database.
//   HOOKSYNC_BENCH_PG=postgres://... node bench/pg-serve.js [--seconds 5] [--runs 3] [--connections 64]
import { fork, spawn } from "node:child_process";
import { once } from "node:events";
import pg from "pg";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuOfPid, load, loadTogether, summary, vstsSpreadRequests } from "./load.js";
import { dataset } from "./workload.js";

/** Work items the deliveries are spread over (the bench dataset's, as replay's). */
const WORK_ITEMS = 1000;
const BENCH_VSTS_SECRET = "bench-vsts-secret-0123456789";
import { findPg, PgDatabases } from "./pg.js";
import { BIN, runCli } from "./util.js";

/**
 * `hooksync serve` on the store, on a free port. --no-outbound: the demo's trackers are not
 * reachable, and the SQLite bench's receiver sends nothing either. Its stderr is kept: with -q
 * only its errors are there.
 */
async function startServe(url) {
  const child = spawn(process.execPath, [BIN, "serve", "--db", url, "--port", "0", "--no-outbound", "-q"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c) => (stderr = (stderr + c).slice(-4000)));
  const listening = await new Promise((resolve, reject) => {
    const seen = () => {
      const m = /listening on (\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    };
    child.stderr.on("data", seen);
    child.once("exit", (code) => reject(new Error(`hooksync serve --db ${url} exited ${code} before listening: ${stderr.slice(-500)}`)));
  });
  return {
    url: listening,
    pid: child.pid,
    /** The last of what it wrote to stderr after "listening on": its errors. */
    errors: () => {
      const at = stderr.indexOf("listening on ");
      return (at === -1 ? stderr : stderr.slice(stderr.indexOf("\n", at) + 1)).trim().slice(-1000);
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
      child.kill("SIGTERM");
      const [code, signal] = await once(child, "exit");
      return code ?? signal;
    },
    kill: () => child.kill(),
  };
}

async function startFloor(url, mode = "insert") {
  const child = fork(import.meta.dirname + "/pg-floor-server.js", [url, mode]);
  const ready = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`the pg floor server exited ${code} before listening`)));
  });
  return {
    url: ready.url,
    pid: child.pid,
    poolSize: ready.poolSize,
    stop: async () => {
      child.send("stop");
      const [{ failed }] = await once(child, "message");
      return failed;
    },
    kill: () => child.kill(),
  };
}

/** The CPU time so far of the server processes, together (not the PostgreSQL server's). */
const cpuOf = (servers) => () => {
  const each = servers.map((s) => cpuOfPid(s.pid));
  return each.includes(undefined) ? undefined : each.reduce((a, b) => a + b, 0);
};

async function count(url, text) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Each setup a median of several runs taken in turn (floor, receiver, two floors, two receivers,
 * floor, ...), so a slow stretch of the machine weighs on all alike. Every server is warmed first:
 * JIT, and each pool's connections opened.
 */
export async function benchPgServe(dbs, { seconds = 5, runs = 3, connections = 64, warm = 2 } = {}) {
  const store = await dbs.create("serve");
  const file = join(tmpdir(), `hooksync-bench-serve-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(dataset(2 * WORK_ITEMS)));
  // The same-statements floor works on a store of its own, made the same way.
  const statementsDb = await dbs.create("serve_statements");
  for (const db of [store, statementsDb]) {
    await runCli(["init", "--db", db.url, "-q"]);
    await runCli(["import", file, "--db", db.url, "-q"]);
  }
  rmSync(file);
  const floorDb = await dbs.create("serve_floor");
  const started = [];
  try {
    const receivers = [];
    const floors = [];
    for (let i = 0; i < 2; i++) {
      receivers.push(await startServe(store.url));
      started.push(receivers[i]);
      floors.push(await startFloor(floorDb.url));
      started.push(floors[i]);
    }
    const statements = await startFloor(statementsDb.url, "statements");
    started.push(statements);
    const requests = vstsSpreadRequests(WORK_ITEMS, BENCH_VSTS_SECRET);
    for (const s of [...floors, statements, ...receivers]) await load(s.url, requests, warm, connections);
    const setups = { floor1: floors.slice(0, 1), statements1: [statements], receiver1: receivers.slice(0, 1), floor2: floors, receiver2: receivers };
    const taken = Object.fromEntries(Object.keys(setups).map((k) => [k, []]));
    for (let i = 0; i < runs; i++) {
      for (const [k, servers] of Object.entries(setups)) {
        taken[k].push(await loadTogether(servers.map((s) => s.url), requests, seconds, connections, cpuOf(servers)));
      }
    }
    const s = Object.fromEntries(Object.entries(taken).map(([k, r]) => [k, summary(r)]));
    const level = (n) => {
      const [floor, receiver] = [s[`floor${n}`], s[`receiver${n}`]];
      return { receivers: n, connections, floor, receiver, ratio: receiver.requestsPerSecond / floor.requestsPerSecond };
    };
    const one = { ...level(1), statements: s.statements1, ofStatements: s.receiver1.requestsPerSecond / s.statements1.requestsPerSecond };
    const errors = receivers.map((r) => r.errors()).filter((e) => e);
    const exits = [];
    for (const r of receivers) exits.push(await r.stop());
    const floorFailed = [];
    for (const f of [...floors, statements]) floorFailed.push(await f.stop());
    started.length = 0;
    return {
      seconds,
      runs,
      poolSize: floors[0].poolSize,
      one,
      two: level(2),
      deliveries: await count(store.url, "SELECT outcome, COUNT(*)::int AS n FROM deliveries GROUP BY outcome ORDER BY outcome"),
      floorRows: (await count(floorDb.url, "SELECT COUNT(*)::int AS n FROM bodies"))[0].n,
      serveExits: exits,
      serveErrors: errors,
      floorFailed,
    };
  } finally {
    for (const s of started) s.kill(); // only after a failure: the run stops them itself
    await dbs.drop(store);
    await dbs.drop(floorDb);
    await dbs.drop(statementsDb);
  }
}

if (import.meta.filename === process.argv[1]) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? fallback : process.argv[i + 1];
  };
  const found = await findPg();
  if (!found.admin) throw new Error(`no PostgreSQL server: ${found.why}`);
  const dbs = new PgDatabases(found.admin);
  try {
    const r = await benchPgServe(dbs, { seconds: Number(arg("--seconds", 5)), runs: Number(arg("--runs", 3)), connections: Number(arg("--connections", 64)) });
    const rows = [
      ["server", "connections", "req/s (median)", "runs", "CPU us/req", "p50 ms", "p99 ms", "requests", "non-2xx", "errors"],
      ...[r.one, r.two].flatMap((l) =>
        [
          [`raw pg floor x${l.receivers}`, l.floor],
          ...(l.statements ? [[`raw pg, serve's statements x1`, l.statements]] : []),
          [`hooksync serve x${l.receivers}`, l.receiver],
        ].map(([name, x]) => [name, `${l.receivers} x ${l.connections}`, String(x.requestsPerSecond), x.runs.join(" "), String(x.cpuUsPerRequest), String(x.p50Ms), String(x.p99Ms), String(x.requests), String(x.non2xx), String(x.errors)]),
      ),
    ];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i])).join("  "));
    console.log(`\nserve / raw pg floor: one receiver ${r.one.ratio.toFixed(3)}, two receivers ${r.two.ratio.toFixed(3)} (median of ${r.runs} runs of ${r.seconds} s, loopback, pool ${r.poolSize})`);
    console.log(`serve / raw pg running serve's statements: one receiver ${r.one.ofStatements.toFixed(3)}`);
    console.log(`deliveries recorded: ${r.deliveries.map((d) => `${d.n} ${d.outcome}`).join(", ")}; floor rows: ${r.floorRows}; serve exits: ${r.serveExits.join(", ")}`);
    for (const e of r.serveErrors) console.log(`serve said: ${e}`);
  } finally {
    await dbs.dropAll();
  }
}
