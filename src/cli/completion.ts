import type { Command, Option } from "commander";
import { UsageError } from "../errors.js";
import type { ContextFactory } from "./context.js";
import { examples } from "./options.js";

/** One node of the command tree: its path from the root ("" for hooksync itself), subcommands and flags. */
interface Node {
  path: string;
  subcommands: { name: string; description: string }[];
  flags: string[];
}

const flagsOf = (options: readonly Option[]) => options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));

/** Every command with what may follow it; the global options are offered everywhere. */
function tree(root: Command): Node[] {
  const globals = flagsOf(root.options);
  const nodes: Node[] = [];
  const visit = (cmd: Command, path: string) => {
    const subs = cmd.commands.filter((c) => c.name() !== "help");
    nodes.push({
      path,
      subcommands: subs.map((c) => ({ name: c.name(), description: c.description() })),
      flags: [...new Set([...flagsOf(cmd.options), ...globals, "--help"])],
    });
    for (const c of subs) visit(c, path ? `${path} ${c.name()}` : c.name());
  };
  visit(root, "");
  return nodes;
}

/** Bash: the words typed so far walk the tree (flags skipped); the candidates are that node's subcommands and flags. */
function bash(nodes: Node[]): string {
  const cases = nodes.map((n) => `    "${n.path}") echo "${[...n.subcommands.map((s) => s.name), ...n.flags].join(" ")}" ;;`).join("\n");
  return `# hooksync completion for bash: source <(hooksync completion bash)
_hooksync_words() {
  case "$1" in
${cases}
  esac
}
_hooksync() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == -* ]] && continue
    case " $(_hooksync_words "$path") " in *" $word "*) path="\${path:+$path }$word" ;; esac
  done
  COMPREPLY=($(compgen -W "$(_hooksync_words "$path")" -- "$cur"))
}
complete -o default -F _hooksync hooksync
`;
}

/** Zsh runs the bash function through bashcompinit: one walk of the tree for both. */
const zsh = (nodes: Node[]) => `# hooksync completion for zsh: source <(hooksync completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(nodes).split("\n").slice(1).join("\n")}`;

const quote = (s: string) => `'${s.replace(/'/g, "\\'")}'`;

/** Fish: each subcommand offered once its parent is the last command seen, each flag once its command is. */
function fish(nodes: Node[]): string {
  const lines = ["# hooksync completion for fish: hooksync completion fish | source"];
  for (const n of nodes) {
    const last = n.path.split(" ").pop()!;
    const when = n.path ? `__fish_seen_subcommand_from ${last}` : "__fish_use_subcommand";
    for (const s of n.subcommands) lines.push(`complete -c hooksync -n ${quote(when)} -a ${s.name} -d ${quote(s.description.split(/[,(:]/)[0]!.trim())}`);
    for (const f of n.flags.filter((f) => f.startsWith("--"))) lines.push(`complete -c hooksync -n ${quote(when)} -l ${f.slice(2)}`);
  }
  return `${lines.join("\n")}\n`;
}

const shells = { bash, zsh, fish };

export function defineCompletion(program: Command, context: ContextFactory): void {
  program
    .command("completion")
    .description("print the shell completion script: source <(hooksync completion bash), zsh likewise, or hooksync completion fish | source")
    .addHelpText("after", examples("hooksync completion bash > ~/.local/share/bash-completion/completions/hooksync", "hooksync completion zsh > \"${fpath[1]}/_hooksync\"", "hooksync completion fish | source"))
    .argument("<shell>", "bash, zsh or fish")
    .action((shell: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      if (!(shell in shells)) throw new UsageError(`no completion for ${shell}`, "use bash, zsh or fish");
      ctx.deps.io.stdout.write(shells[shell as keyof typeof shells](tree(program)));
    });
}
