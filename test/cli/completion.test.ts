import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, run } from "../helpers.js";

const hasBash = spawnSync("bash", ["--version"]).status === 0;
const hooksync = `'${process.execPath}' '${join(ROOT, "bin", "hooksync.js")}'`;

/** COMPREPLY for the words typed so far, the last one being completed, in a bash that sourced the script. */
function complete(words: string[]): { loaded: string; reply: string[] } {
  const script = `source <(${hooksync} completion bash) && complete -p hooksync && COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}) && COMP_CWORD=${words.length - 1} && _hooksync && printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  const [loaded = "", ...reply] = r.stdout.trim().split("\n");
  return { loaded, reply };
}

describe.skipIf(!hasBash)("hooksync completion bash (needs npm run build)", () => {
  it("loads in bash and completes 'hooksync sub<TAB>' to subscribe and subscriptions", () => {
    const { loaded, reply } = complete(["hooksync", "sub"]);
    expect(loaded).toBe("complete -o default -F _hooksync hooksync");
    expect(reply).toEqual(["subscribe", "subscriptions"]);
  });

  it("completes a subcommand's own flags and the global ones after it, from the command tree", () => {
    expect(complete(["hooksync", "issue", "list", "--p"]).reply).toEqual(["--project"]);
    expect(complete(["hooksync", "--db", "x.db", "outbound", "l"]).reply).toEqual(["list"]);
    expect(complete(["hooksync", "deliveries", "prune", "--mig"]).reply).toEqual(["--migrate"]);
  });
});

describe("hooksync completion", () => {
  it("prints zsh and fish scripts from the same tree", async () => {
    const zsh = await run(["completion", "zsh"]);
    expect(zsh.stdout).toMatch(/bashcompinit[\s\S]*"issue list"\) echo "--project /);
    const fish = await run(["completion", "fish"]);
    expect(fish.stdout).toContain("complete -c hooksync -n '__fish_use_subcommand' -a subscriptions");
    expect(fish.stdout).toContain("complete -c hooksync -n '__fish_seen_subcommand_from list' -l project");
  });

  it("refuses another shell with a usage error naming the ones it knows", async () => {
    expect(await run(["completion", "tcsh"])).toMatchObject({ code: 2, stderr: "hooksync: no completion for tcsh (use bash, zsh or fish)\n" });
  });
});
