// Replay into PostgreSQL: `hooksync replay <payloads.ndjson> --db <pg url> -q` against the raw
// `pg` floor (pg-floor.js), on a database initialised and imported like the SQLite one, each run
// on a fresh copy of it (CREATE DATABASE ... TEMPLATE). The same workload generator as replay.js,
// fewer payloads: every COMMIT and every statement is a round trip to the server.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { pgFloorReplay } from "./pg-floor.js";
import { writeLines } from "./replay.js";
import { median, runCli } from "./util.js";
import { dataset, payloadLines } from "./workload.js";

/** Activity rows written: the CLI and the floor applied the same changes if these agree. */
async function activityRows(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query("SELECT COUNT(*)::int AS n FROM activity")).rows[0].n;
  } finally {
    await client.end();
  }
}

export async function benchPgReplay(dir, dbs, { payloads = 5_000, issues = 10_000, runs = 3 } = {}) {
  const importFile = join(dir, "pg-dataset.json");
  writeFileSync(importFile, JSON.stringify(dataset(issues)));
  const input = join(dir, "pg-payloads.ndjson");
  await writeLines(input, payloadLines(payloads, issues));
  const pristine = await dbs.create("pristine");
  try {
    await runCli(["init", "--db", pristine.url, "-q"]);
    await runCli(["import", importFile, "--db", pristine.url, "-q"]);
    const cli = [];
    const floor = [];
    const activity = { cli: [], floor: [] };
    for (let r = 0; r < runs; r++) {
      const a = await dbs.create(`cli${r}`, pristine);
      const c = await runCli(["replay", input, "--db", a.url, "-q"]);
      cli.push(payloads / c.seconds);
      activity.cli.push(await activityRows(a.url));
      await dbs.drop(a);
      const b = await dbs.create(`floor${r}`, pristine);
      const f = await pgFloorReplay(b.url, input);
      floor.push(f.payloads / f.seconds);
      activity.floor.push(await activityRows(b.url));
      await dbs.drop(b);
    }
    const cliRate = median(cli);
    const floorRate = median(floor);
    return {
      payloads,
      issues,
      runs,
      cliPayloadsPerSecond: Math.round(cliRate),
      floorPayloadsPerSecond: Math.round(floorRate),
      ratio: cliRate / floorRate,
      cliRuns: cli.map(Math.round),
      floorRuns: floor.map(Math.round),
      activityRows: activity,
    };
  } finally {
    await dbs.drop(pristine);
  }
}
