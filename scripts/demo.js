// npm run demo: a fresh demo store, the bundled payloads replayed, the changes shown.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = join(root, ".demo");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const db = join(dir, "hooksync.db");
const tty = process.stdout.isTTY;
const bold = (s) => (tty ? `\u001b[1m${s}\u001b[22m` : s);

function step(title, args) {
  process.stdout.write(`\n${bold(`== ${title}`)}\n${tty ? "\u001b[2m" : ""}$ hooksync ${args.join(" ")}${tty ? "\u001b[22m" : ""}\n`);
  const r = spawnSync(process.execPath, [join(root, "bin", "hooksync.js"), ...args, "--db", db], { stdio: "inherit" });
  if (r.status !== 0) {
    process.stderr.write(`demo: 'hooksync ${args.join(" ")}' exited ${r.status}\n`);
    process.exit(r.status ?? 1);
  }
}

step("A demo store: one organization, an Azure DevOps and a Jira integration, three linked issues", ["init", "--demo"]);
step("The issues before any webhook arrives", ["issue", "list"]);
step("Seven recorded webhooks replayed through the sync engine", ["replay", "examples/payloads"]);
step("The issues now", ["issue", "list"]);
step("What happened, newest last", ["activity"]);
process.stdout.write(`\nThe demo store is ${db}: try 'node bin/hooksync.js replay examples/payloads --dry-run --json --db ${db}'\n`);
