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
