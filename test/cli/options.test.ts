import type { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { commandTree } from "../shell-words.js";

function leaves(cmd: Command, path = ""): { path: string; options: readonly Option[] }[] {
  return cmd.commands.flatMap((c) => {
    const p = path ? `${path} ${c.name()}` : c.name();
    return [{ path: p, options: c.options }, ...leaves(c, p)];
  });
}

/** Flags that come together: a command declaring the first declares the rest, from one definition (login jira's --token-stdin is Jira's). */
const FAMILIES = [
  ["--ca-file", "--insecure", "--timeout"],
  ["--pat-stdin", "--token-stdin", "--az-token"],
];

describe("the shared options", () => {
  const commands = leaves(commandTree());

  it("spell --integration, --dry-run and the HTTP and credential flags the same on every command", () => {
    const spellings = new Map<string, Set<string>>();
    for (const { options } of commands) {
      for (const o of options) {
        if (!["--integration", "--dry-run", "--ca-file", "--insecure", "--timeout", "--pat-stdin", "--token-stdin", "--az-token"].includes(o.long!)) continue;
        const seen = spellings.get(o.long!) ?? new Set();
        seen.add(`${o.flags} default=${String(o.defaultValue)}`);
        spellings.set(o.long!, seen);
      }
    }
    expect(Object.fromEntries([...spellings].map(([k, v]) => [k, [...v]]))).toEqual({
      "--integration": ["--integration <externalId> default=undefined"],
      "--dry-run": ["--dry-run default=undefined"],
      "--ca-file": ["--ca-file <pem> default=undefined"],
      "--insecure": ["--insecure default=undefined"],
      "--timeout": ["--timeout <seconds> default=30"],
      "--pat-stdin": ["--pat-stdin default=undefined"],
      "--token-stdin": ["--token-stdin default=undefined"],
      "--az-token": ["--az-token default=undefined"],
    });
  });

  it.each(FAMILIES)("gives every command with %s the whole family", (first) => {
    const family = FAMILIES.find((f) => f[0] === first)!;
    const partial = commands
      .map(({ path, options }) => ({ path, has: family.filter((f) => options.some((o) => o.long === f)) }))
      .filter(({ has }) => has.includes(first) && has.length < family.length);
    expect(partial).toEqual([]);
  });

  it("lets every command that pushes take any Azure DevOps credential", () => {
    for (const path of ["assign", "unassign", "resolve", "unresolve", "outbound retry", "link", "search vsts"]) {
      const options = commands.find((c) => c.path === path)!.options.map((o) => o.long);
      expect(options, path).toEqual(expect.arrayContaining(["--pat-stdin", "--token-stdin", "--az-token"]));
    }
  });
});
