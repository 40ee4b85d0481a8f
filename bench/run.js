// npm run bench: each figure a median of several runs, as a ratio against a floor measured in
// the same run. Prints a table and writes bench/results.json.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchColdStart } from "./coldstart.js";
import { benchReplay } from "./replay.js";
import { benchServe } from "./serve.js";
import { findPg, PgDatabases } from "./pg.js";
import { benchPgReplay } from "./pg-replay.js";
import { benchPgServe } from "./pg-serve.js";

const quick = process.argv.includes("--quick");
const dir = mkdtempSync(join(tmpdir(), "hooksync-bench-"));
const mb = (b) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const count = (n) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

/**
 * Replay into PostgreSQL and serve on PostgreSQL, each against a raw `pg` floor, on the server
 * findPg finds; without one, skipped, said in one loud line under the table. A failure there is
 * said under the table too, and fails the run.
 */
async function benchPostgres() {
  let dbs;
  try {
    const found = await findPg();
    if (!found.admin) return { skipped: found.why };
    dbs = new PgDatabases(found.admin);
    const replay = await benchPgReplay(dir, dbs, quick ? { payloads: 1_000, issues: 2_000, runs: 1 } : { payloads: 3_000, runs: 3 });
    const serve = await benchPgServe(dbs, quick ? { seconds: 2, runs: 1, warm: 1 } : { seconds: 3, runs: 3 });
    return { server: new URL(found.admin).host, replay, serve };
  } catch (err) {
    // The SQLite figures are still printed and written; the run fails once they are.
    process.exitCode = 1;
    return { failed: err.stack ?? String(err) };
  } finally {
    await dbs?.dropAll().catch((err) => console.error(`bench: could not drop the databases ${dbs.made.join(", ")}: ${err.message}`));
  }
}

function postgresRows({ replay, serve }) {
  const level = (l) => {
    const what = l.receivers === 1 ? "1 receiver" : `${l.receivers} receivers`;
    const conns = l.receivers === 1 ? `${l.connections} connections` : `${l.connections} connections each`;
    return [
      [`serve on PostgreSQL req/s (${what}, ${conns})`, l.receiver.requestsPerSecond, `raw pg ${l.floor.requestsPerSecond}`, l.ratio, ""],
      [`  serve on PostgreSQL CPU per request (${what})`, `${l.receiver.cpuUsPerRequest} us`, `raw pg ${l.floor.cpuUsPerRequest} us`, l.receiver.cpuUsPerRequest / Math.max(1, l.floor.cpuUsPerRequest), ""],
      [`serve on PostgreSQL p99 latency (${what})`, `${l.receiver.p99Ms} ms`, `raw pg ${l.floor.p99Ms} ms`, l.receiver.p99Ms / Math.max(1, l.floor.p99Ms), ""],
    ];
  };
  return [
    [`replay into PostgreSQL payloads/s (${count(replay.payloads)}, ${count(replay.issues)} linked issues)`, replay.cliPayloadsPerSecond, `raw pg ${replay.floorPayloadsPerSecond}`, replay.ratio, ">= 0.50"],
    ...level(serve.one),
    [`  serve on PostgreSQL / raw pg running serve's statements (1 receiver)`, serve.one.receiver.requestsPerSecond, `raw pg ${serve.one.statements.requestsPerSecond}`, serve.one.ofStatements, ">= 0.60"],
    ...level(serve.two),
  ];
}

try {
  const started = Date.now();
  // Seconds each part took, to keep the whole within its few minutes.
  const took = {};
  const timed = async (part, fn) => {
    const t = Date.now();
    const r = await fn();
    took[part] = (Date.now() - t) / 1000;
    return r;
  };
  const replay = await timed("replay", () => benchReplay(dir, quick ? { payloads: 10_000, runs: 1, rssPayloads: 50_000 } : {}));
  const cold = await timed("coldStart", () => benchColdStart(join(dir, "pristine.db"), quick ? 5 : 21));
  const serve = await timed("serve", () => benchServe(quick ? { seconds: 3, runs: 1 } : { seconds: 5, runs: 3 }));
  const postgres = await timed("postgres", () => benchPostgres());
  const rows = [
    [`replay payloads/s (${count(replay.payloads)}, ${count(replay.issues)} linked issues)`, replay.cliPayloadsPerSecond, `floor ${replay.floorPayloadsPerSecond}`, replay.ratio, ">= 0.50"],
    [`replay peak RSS (${count(replay.rssPayloads)} payloads)`, mb(replay.peakRssBytes1M), "", replay.peakRssBytes1M / (150 * 1024 * 1024), "< 1.00 of 150 MB"],
    ["cold start: --version", `${cold.versionMs.toFixed(1)} ms`, `node -e 0: ${cold.nodeMs.toFixed(1)} ms`, cold.versionRatio, "<= 1.50"],
    ["cold start: issue list", `${cold.issueListMs.toFixed(1)} ms`, `node -e 0: ${cold.nodeMs.toFixed(1)} ms`, cold.issueListRatio, ""],
    ...serve.levels.flatMap((l) => [
      [`serve req/s (${l.connections} connections, synced before answering)`, l.receiver.requestsPerSecond, `bare node:http ${l.bare.requestsPerSecond}`, l.ratio, ">= 0.40"],
      [`  durable floor req/s (${l.connections} connections)`, l.floor.requestsPerSecond, `bare node:http ${l.bare.requestsPerSecond}`, l.floorRatio, ""],
      [`  serve / durable floor (${l.connections} connections)`, l.receiver.requestsPerSecond, `floor ${l.floor.requestsPerSecond}`, l.ofFloor, ">= 0.70"],
      [`  serve CPU per request (${l.connections} connections)`, `${l.receiver.cpuUsPerRequest} us`, `floor ${l.floor.cpuUsPerRequest} us`, l.receiver.cpuUsPerRequest / Math.max(1, l.floor.cpuUsPerRequest), ""],
      [`serve p99 latency (${l.connections} connections)`, `${l.receiver.p99Ms} ms`, `bare ${l.bare.p99Ms} ms`, l.receiver.p99Ms / Math.max(1, l.bare.p99Ms), ""],
    ]),
    ...(postgres.replay ? postgresRows(postgres) : []),
  ];
  const table = [["measure", "hooksync", "floor", "ratio", "target"], ...rows.map((r) => [r[0], String(r[1]), r[2], r[3].toFixed(2), r[4]])];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  for (const r of table) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));
  if (postgres.skipped) console.log(`\n*** PostgreSQL rows SKIPPED: ${postgres.skipped}; set HOOKSYNC_BENCH_PG to an admin URL to measure them ***`);
  if (postgres.failed) console.log(`\n*** PostgreSQL rows FAILED: ${postgres.failed} ***`);
  const results = { date: new Date().toISOString(), node: process.version, quick, seconds: (Date.now() - started) / 1000, took, replay, coldStart: cold, serve, postgres };
  writeFileSync(join(import.meta.dirname, "results.json"), JSON.stringify(results, null, 2) + "\n");
  console.log(`\nwritten to bench/results.json in ${results.seconds.toFixed(0)} s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
