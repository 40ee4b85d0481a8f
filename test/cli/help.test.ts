import { describe, expect, it } from "vitest";
import type { Command } from "commander";
import { run } from "../helpers.js";
import { commandTree, pathOf, words } from "../shell-words.js";

const caFile = async (path: string[]) => {
  const help = (await run([...path, "--help"])).stdout.replace(/\s+/g, " ");
  return /--ca-file <pem> (.*?); NODE_EXTRA_CA_CERTS/.exec(help)?.[1];
};

describe("--help", () => {
  it("words --ca-file for the server the command reaches: no Jira Server on Azure DevOps or Discord commands", async () => {
    expect(await caFile(["notify", "discord"])).toMatch(/Discord/);
    expect(await caFile(["subscribe", "vsts"])).toMatch(/Azure DevOps Server/);
    expect(await caFile(["search", "jira"])).toMatch(/Jira Server/);
    for (const path of [["notify", "discord"], ["subscribe", "vsts"], ["subscriptions", "vsts"], ["unsubscribe", "vsts"], ["search", "vsts"]]) {
      expect(await caFile(path), path.join(" ")).not.toMatch(/Jira/);
    }
  });
});

/** Every command of the tree with its path ("" for hooksync itself). */
function everyCommand(root: Command): { path: string; cmd: Command }[] {
  const out: { path: string; cmd: Command }[] = [{ path: "", cmd: root }];
  const visit = (cmd: Command, path: string) => {
    for (const c of cmd.commands) {
      const p = path ? `${path} ${c.name()}` : c.name();
      out.push({ path: p, cmd: c });
      visit(c, p);
    }
  };
  visit(root, "");
  return out;
}

/** The lines of the help's Examples section, as written. */
const examplesOf = (help: string): string[] => {
  const section = /\nExamples:\n((?: {2}.*\n?)+)/.exec(help);
  return section ? section[1]!.trimEnd().split("\n").map((l) => l.trim()) : [];
};

/** What is wrong with one example line of the command at `path`, or null. */
function problem(root: Command, path: string, line: string): string | null {
  const all = words(line);
  const end = all.findIndex((w) => ["|", "<", ">", "&&", "||", ";"].includes(w));
  const [program, ...args] = end < 0 ? all : all.slice(0, end);
  if (program !== "hooksync") return "does not start with hooksync";
  const reached = pathOf(root, args);
  if (!(reached === path || reached.startsWith(`${path} `) || path === "")) return `runs '${reached}', not a '${path}' command`;
  const cmd = everyCommand(root).find((c) => c.path === reached)!.cmd;
  if (cmd.commands.length > 0 && cmd.options.length === 0) return `'${reached}' needs a subcommand`;
  const known = new Set([...cmd.options, ...root.options].flatMap((o) => [o.long, o.short]).concat("--help"));
  const unknown = args.filter((a) => a.startsWith("-") && a !== "-" && !known.has(a.split("=")[0]!));
  return unknown.length ? `'${reached}' has no ${unknown.join(", ")}` : null;
}

describe("every command's --help", () => {
  // The root's own options, as main declares them.
  const root = commandTree();
  root.option("--db <path>").option("--json").option("--no-color").option("-q, --quiet").option("-v, --verbose").option("--migrate").option("-V, --version");

  it.each(everyCommand(root).map((c) => [c.path || "hooksync", c.path] as const))("%s ends with 1-3 examples that name real commands and flags", async (_name, path) => {
    const help = (await run([...(path ? path.split(" ") : []), "--help"])).stdout;
    const lines = examplesOf(help);
    expect(lines.length, help).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(help.trimEnd().endsWith(lines.at(-1)!)).toBe(true);
    expect(lines.map((l) => problem(root, path, l)).filter((p) => p !== null)).toEqual([]);
  });

  it("finds a stale example: a flag the command does not have, a command that does not exist", () => {
    expect(problem(root, "issue list", "hooksync issue list --projekt backend")).toBe("'issue list' has no --projekt");
    expect(problem(root, "simulate vsts", "hooksync simulate jira issue_updated --issue X-1")).toBe("runs 'simulate jira', not a 'simulate vsts' command");
    expect(problem(root, "issue", "hooksync issue")).toBe("'issue' needs a subcommand");
  });
});
