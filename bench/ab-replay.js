// Replay A/B: this checkout against another one (a worktree of an earlier commit, built), the same
// dataset and payloads, runs alternating so a slow stretch of the machine weighs on both alike.
//   git worktree add ../before <commit> && (cd ../before && npm ci && npm run build)
//   node bench/ab-replay.js ../before [--payloads 50000] [--runs 7]
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { median } from "./util.js";
import { dataset, payloadLines } from "./workload.js";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
};
const other = process.argv[2];
if (!other || other.startsWith("--")) throw new Error("usage: node bench/ab-replay.js <other checkout> [--payloads N] [--runs N]");
const payloads = Number(arg("--payloads", 50_000));
const runs = Number(arg("--runs", 7));
const ISSUES = 10_000;
const bins = { before: join(resolve(other), "bin", "hooksync.js"), now: join(import.meta.dirname, "..", "bin", "hooksync.js") };
const dir = mkdtempSync(join(tmpdir(), "hooksync-ab-"));
try {
  const data = join(dir, "dataset.json");
  writeFileSync(data, JSON.stringify(dataset(ISSUES)));
  const input = join(dir, "payloads.ndjson");
  writeFileSync(input, [...payloadLines(payloads, ISSUES)].join("\n") + "\n");
  const cli = (bin, args) => execFileSync(process.execPath, [bin, ...args], { stdio: "ignore" });
  for (const [k, bin] of Object.entries(bins)) {
    cli(bin, ["init", "--db", join(dir, `${k}.db`), "-q"]);
    cli(bin, ["import", data, "--db", join(dir, `${k}.db`), "-q"]);
  }
  const rates = { before: [], now: [] };
  for (let r = 0; r < runs; r++) {
    for (const [k, bin] of Object.entries(bins)) {
      copyFileSync(join(dir, `${k}.db`), join(dir, `${k}-run.db`));
      const started = performance.now();
      cli(bin, ["replay", input, "--db", join(dir, `${k}-run.db`), "-q"]);
      rates[k].push(Math.round(payloads / ((performance.now() - started) / 1000)));
    }
  }
  console.log(`before: ${rates.before.join(" ")} payloads/s (median ${median(rates.before)})`);
  console.log(`now:    ${rates.now.join(" ")} payloads/s (median ${median(rates.now)})`);
  console.log(`now / before: ${(median(rates.now) / median(rates.before)).toFixed(3)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
