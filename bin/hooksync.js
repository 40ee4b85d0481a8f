#!/usr/bin/env node
// `--version` alone is answered before anything else loads: scripts call it to probe the tool.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  const { readFileSync } = await import("node:fs");
  process.stdout.write(`${JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version}\n`);
} else {
  const { main } = await import("../dist/cli/main.js");
  const { processDeps } = await import("../dist/deps.js");
  process.exitCode = await main(argv, processDeps());
}
