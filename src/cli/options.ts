import { type Command, Option } from "commander";

/**
 * An older spelling of a flag, kept so scripts keep working but left out of the help: its value
 * lands on the canonical option (and counts for that option's conflicts).
 */
export function hiddenAlias(cmd: Command, flags: string, canonical: string): Command {
  const alias = new Option(flags).hideHelp();
  cmd.addOption(alias);
  cmd.on(`option:${alias.name()}`, (value: unknown) => cmd.setOptionValueWithSource(canonical, value ?? true, "cli"));
  return cmd;
}

/**
 * The Examples section of a command's --help (commander's `addHelpText("after", ...)`): one to
 * three command lines, each with an optional `# why`. test/cli/help.test.ts checks every command
 * has one and that each line's command and flags exist.
 */
export const examples = (...lines: string[]): string => `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}\n`;
