import { Command } from "commander";
import { commands } from "../src/cli/registry.js";

/**
 * Shell words of one line: quotes kept together, a comment dropped, operators as their own words.
 * A placeholder such as `<collection id>` (no space after `<`) is one word, not a redirection.
 */
export function words(line: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:(#.*$)|(<[^\s<>(][^<>]*>)|('[^']*'|"[^"]*"|[^\s'"<>|;&]+)+|(&&|\|\||[<>|;]))/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null && m[0] !== "") {
    if (m[1] !== undefined) break;
    out.push(m[2] ?? m[4] ?? m[0].trim().replace(/'([^']*)'|"([^"]*)"/g, (_, a: string | undefined, b: string | undefined) => a ?? b ?? ""));
  }
  return out;
}

/** The command tree as main builds it; no action runs. */
export function commandTree(): Command {
  const root = new Command("hooksync");
  for (const define of commands) define(root, () => {
    throw new Error("not run");
  });
  return root;
}

/** "outbound send" for `outbound send --strict`: the subcommands the arguments walk. */
export function pathOf(root: Command, args: string[]): string {
  const names: string[] = [];
  let cmd = root;
  for (const a of args) {
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    names.push(sub.name());
    cmd = sub;
  }
  return names.join(" ");
}

