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

/** --integration: the integration of the store a command works on. */
export const integrationOption = (description: string) => new Option("--integration <externalId>", description);

/** --integration for a command of one tracker, which a store with one integration of it needs not name. */
export const onlyIntegrationOption = (provider: "vsts" | "jira") => integrationOption(`the ${provider} integration (default: the only one)`);

/** --dry-run: the description says what the command would do instead. */
export const dryRunOption = (description: string) => new Option("--dry-run", description);

/** Why a user of each kind of command would need --ca-file: a server of their own, or a proxy re-signing TLS. */
const CA_FOR: Record<string, string> = {
  vsts: "an Azure DevOps Server with a self-signed or private CA",
  jira: "a Jira Server with a self-signed or private CA",
  discord: "a proxy that re-signs TLS on the way to Discord",
  tracker: "a Jira or Azure DevOps Server with a self-signed or private CA",
  push: "a tracker with a self-signed or private CA, or a proxy that re-signs TLS to Discord",
};

/**
 * The HTTP flags every command that talks to a server declares. `reaches` words --ca-file for it:
 * by default the command's name when that names the server (vsts, jira, discord), else any tracker.
 */
export function addHttpOptions(cmd: Command, reaches: keyof typeof CA_FOR = cmd.name() in CA_FOR ? cmd.name() : "tracker"): Command {
  return cmd
    .option("--ca-file <pem>", `trust these CA certificates too (${CA_FOR[reaches]}); NODE_EXTRA_CA_CERTS also works`)
    .addOption(new Option("--insecure", "do not check the server's TLS certificate (never on a network you do not trust)"))
    .option("--timeout <seconds>", "give up on a request after this long", "30");
}

/** The ways to give an Azure DevOps credential; without one, AZURE_DEVOPS_TOKEN, then AZURE_DEVOPS_EXT_PAT. */
export function addVstsTokenOptions(cmd: Command): Command {
  return cmd
    .option("--pat-stdin", "read an Azure DevOps personal access token from stdin (else AZURE_DEVOPS_EXT_PAT)")
    .option("--token-stdin", "read a Microsoft Entra ID access token from stdin (else AZURE_DEVOPS_TOKEN)")
    .option("--az-token", "get an Entra ID access token from the signed-in az CLI (az account get-access-token)");
}

/** The flags of every command that sends pushes: the tracker HTTP options and the Azure DevOps credential. */
export function addPushOptions(cmd: Command): Command {
  return addHttpOptions(addVstsTokenOptions(cmd), "push");
}
