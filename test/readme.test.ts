import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NOW, ROOT, run, tempDir } from "./helpers.js";
import { oldDeliveries } from "./old-deliveries.js";
import { commandTree, pathOf, words } from "./shell-words.js";
import { VSTS_ID } from "./world.js";

const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** One `hooksync ...` invocation found in a ```sh block: its arguments and the file its stdin comes from. */
interface ReadmeCommand {
  line: string;
  args: string[];
  stdinFile: string | null;
}

/** Every `hooksync` (or `node bin/hooksync.js`) command in the README's sh code blocks. */
function readmeCommands(markdown: string): ReadmeCommand[] {
  const found: ReadmeCommand[] = [];
  for (const block of markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const line of block[1]!.replace(/\\\n/g, " ").split("\n")) {
      const all = words(line);
      // Each part of a `a && b | c` line on its own.
      const parts: string[][] = [[]];
      for (const w of all) {
        if (w === "&&" || w === "||" || w === ";" || w === "|") parts.push([]);
        else parts.at(-1)!.push(w);
      }
      for (const part of parts) {
        const at = part.findIndex((w) => w === "hooksync" || w.endsWith("bin/hooksync.js"));
        if (at < 0) continue;
        const rest = part.slice(at + 1);
        const redirect = rest.indexOf("<");
        found.push({
          line: line.trim(),
          args: redirect < 0 ? rest : rest.slice(0, redirect),
          stdinFile: redirect < 0 ? null : (rest[redirect + 1] ?? null),
        });
      }
    }
  }
  return found;
}

/**
 * The README commands this test does not run, and what running them would need. A command path
 * here is skipped unless `runsWith` names a flag its line has; a flag here skips any command.
 */
const SKIPPED: { path?: string; flag?: string; runsWith?: string; needs: string }[] = [
  { path: "serve", needs: "a long-running server: test/cli/serve.test.ts and test/receiver/ run it" },
  { flag: "--send", needs: "a running receiver: test/cli/simulate.test.ts sends to one" },
  { path: "subscribe vsts", needs: "an Azure DevOps (test/fakes/azure-devops.ts, test/cli/subscribe.test.ts)" },
  { path: "subscribe jira", needs: "a Jira (test/fakes/jira.ts, test/cli/subscribe-jira.test.ts)" },
  { path: "subscriptions vsts", needs: "an Azure DevOps (test/cli/subscribe.test.ts)" },
  { path: "unsubscribe vsts", needs: "an Azure DevOps (test/cli/subscribe.test.ts)" },
  { path: "oauth jira", needs: "a Jira and a browser or its verifier (test/cli/oauth.test.ts)" },
  { path: "search vsts", needs: "an Azure DevOps (test/cli/search.test.ts)" },
  { path: "search jira", needs: "a Jira (test/cli/search.test.ts)" },
  { path: "link", runsWith: "--no-verify", needs: "a tracker to verify the key (test/cli/link.test.ts)" },
  { path: "notify discord", needs: "Discord (test/fakes/discord.ts, test/cli/notify.test.ts)" },
  { path: "login jira", needs: "a Jira to check the token against (test/trackers/credentials.test.ts)" },
  { path: "store copy", needs: "a second store, a PostgreSQL one in the README (test/cli/store.test.ts, test/store/copy.test.ts)" },
  { path: "status-map fetch", needs: "a tracker's states and statuses (test/cli/status-map.test.ts)" },
];

function skipReason(path: string, args: string[]): string | null {
  for (const s of SKIPPED) {
    if (s.flag !== undefined && args.includes(s.flag)) return s.needs;
    if (s.path === path && !(s.runsWith !== undefined && args.includes(s.runsWith))) return s.needs;
  }
  return null;
}

describe("the README's commands", () => {
  const dir = tempDir();
  afterAll(dir.cleanup);
  const root = commandTree();
  const found = readmeCommands(README);

  /** A fresh demo store per command, and the files and ids the README's placeholders stand for. */
  async function demo(name: string): Promise<Record<string, string>> {
    const db = join(dir.path, `${name}.db`);
    const init = await run(["init", "--demo", "--db", db]);
    expect(init.code, init.stderr).toBe(0);
    const payload = (file: string) => JSON.stringify(JSON.parse(readFileSync(join(ROOT, "examples", "payloads", file), "utf8")));
    const recorded = join(dir.path, `${name}-recorded.ndjson`);
    writeFileSync(recorded, `${payload("01-vsts-reassign-and-start.json")}\n${payload("03-jira-assign-jane.json")}\n`);
    const more = join(dir.path, `${name}-more.ndjson`);
    writeFileSync(more, `${payload("05-jira-resolve.json")}\n`);
    // A delivery as serve records it, for `replay --delivery <id>`.
    const delivery = await (await oldDeliveries(db)).add(new Date(NOW), { end: { outcome: "applied" }, body: Buffer.from(payload("01-vsts-reassign-and-start.json")) });
    return {
      "demo.db": db,
      "payloads/": join(ROOT, "examples", "payloads"),
      "recorded.ndjson": recorded,
      "more.ndjson": more,
      "1234567890123456": String(delivery),
      "<collection id>": VSTS_ID,
      "<id>": VSTS_ID,
      "<externalId>": "jira-acme",
    };
  }

  it("finds the commands of every sh block (the tour, simulate, outbound...)", () => {
    const paths = found.map((c) => pathOf(root, c.args));
    expect(paths).toEqual(expect.arrayContaining(["init", "replay", "issue list", "simulate vsts", "simulate jira", "assign", "project delete"]));
    expect(found.length).toBeGreaterThan(20);
  });

  it("names a reason for each command it skips, and none it does not", () => {
    const unused = SKIPPED.filter((s) => !found.some((c) => (s.flag ? c.args.includes(s.flag) : pathOf(root, c.args) === s.path)));
    expect(unused).toEqual([]);
  });

  const runs = found.map((c, i) => ({ i, c, path: pathOf(root, c.args), skipped: skipReason(pathOf(root, c.args), c.args) }));

  it.skip.each(runs.filter((r) => r.skipped !== null).map((r) => [r.c.line, r.skipped]))("%s (needs %s)", () => {});

  it.each(runs.filter((r) => r.skipped === null).map((r) => [r.c.line, r] as const))("runs on a fresh demo store: %s", async (_line, { i, c, path }) => {
    const values = await demo(`cmd${i}`);
    const args = c.args.map((a) => values[a] ?? a);
    const stdin = c.stdinFile === null ? undefined : readFileSync(values[c.stdinFile] ?? join(ROOT, c.stdinFile));
    const r = await run(args, { stdin, env: { HOOKSYNC_DB: values["demo.db"], HOOKSYNC_CONFIG_DIR: join(dir.path, `cmd${i}-config`) } });
    expect({ code: r.code, stderr: r.stderr }, `hooksync ${args.join(" ")}`).toEqual({ code: 0, stderr: expect.not.stringMatching(/^hooksync: /m) });
    // A simulation in the README shows a sync on the demo data, not a payload the engine skips.
    if (path.startsWith("simulate")) {
      expect(r.stdout).toMatch(/^applied /);
      expect(r.stdout).not.toContain("(skipped:");
    }
  });
});
