// Replay throughput and memory: the CLI against the floor (the same SQL run directly).
import { spawn } from "node:child_process";
import { copyFileSync, createWriteStream, writeFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { dataset, payloadLines } from "./workload.js";
import { floorReplay } from "./floor.js";
import { BIN, median, runCli } from "./util.js";

export async function writeLines(path, lines) {
  const out = createWriteStream(path);
  for (const line of lines) if (!out.write(line + "\n")) await once(out, "drain");
  out.end();
  await once(out, "finish");
}

/** Runs the CLI with its stdin fed from a generator, returning seconds and peak RSS. */
function runCliFed(args, lines) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--import", join(import.meta.dirname, "maxrss.js"), BIN, ...args], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`hooksync ${args.join(" ")} exited ${code}: ${stderr.slice(-500)}`));
      const rss = Number(/BENCH_MAXRSS_KB=(\d+)/.exec(stderr)?.[1]) * 1024;
      resolve({ seconds: (performance.now() - started) / 1000, rss });
    });
    (async () => {
      for (const line of lines) if (!child.stdin.write(line + "\n")) await once(child.stdin, "drain");
      child.stdin.end();
    })().catch(reject);
  });
}

export async function benchReplay(dir, { payloads = 100_000, issues = 10_000, runs = 3, rssPayloads = 1_000_000 } = {}) {
  const importFile = join(dir, "dataset.json");
  writeFileSync(importFile, JSON.stringify(dataset(issues)));
  const pristine = join(dir, "pristine.db");
  await runCli(["init", "--db", pristine, "-q"]);
  await runCli(["import", importFile, "--db", pristine, "-q"]);
  const input = join(dir, "payloads.ndjson");
  await writeLines(input, payloadLines(payloads, issues));

  const cli = [];
  const floor = [];
  const rss = [];
  for (let r = 0; r < runs; r++) {
    const a = join(dir, `cli-${r}.db`);
    copyFileSync(pristine, a);
    const c = await runCli(["replay", input, "--db", a, "-q"], { maxrss: true });
    cli.push(payloads / c.seconds);
    rss.push(c.rss);
    const b = join(dir, `floor-${r}.db`);
    copyFileSync(pristine, b);
    const f = await floorReplay(b, input);
    floor.push(f.payloads / f.seconds);
  }
  const big = join(dir, "rss.db");
  copyFileSync(pristine, big);
  const million = rssPayloads ? await runCliFed(["replay", "-", "--db", big, "-q"], payloadLines(rssPayloads, issues, 7)) : null;
  const cliRate = median(cli);
  const floorRate = median(floor);
  return {
    payloads,
    issues,
    rssPayloads,
    cliPayloadsPerSecond: Math.round(cliRate),
    floorPayloadsPerSecond: Math.round(floorRate),
    ratio: cliRate / floorRate,
    peakRssBytes100k: median(rss),
    peakRssBytes1M: million?.rss ?? null,
    payloadsPerSecond1M: million ? Math.round(rssPayloads / million.seconds) : null,
  };
}
