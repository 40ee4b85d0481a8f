// Cold start: wall time of whole processes, median of many runs, against `node -e 0`.
import { spawnSync } from "node:child_process";
import { BIN, median } from "./util.js";

function time(args, runs) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: "ignore" });
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}`);
    samples.push(performance.now() - started);
  }
  return median(samples);
}

export function benchColdStart(db, runs = 21) {
  time(["-e", "0"], 3); // warm the page cache
  const node = time(["-e", "0"], runs);
  const version = time([BIN, "--version"], runs);
  const issueList = time([BIN, "issue", "list", "--db", db], runs);
  return { nodeMs: node, versionMs: version, versionRatio: version / node, issueListMs: issueList, issueListRatio: issueList / node };
}
