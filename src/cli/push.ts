import type { Command } from "commander";
import { addHttpOptions } from "./trackers.js";

/** The flags of every command that sends pushes: the tracker HTTP options and the Azure DevOps token. */
export function addPushOptions(cmd: Command): Command {
  return addHttpOptions(cmd.option("--pat-stdin", "read the Azure DevOps personal access token from stdin (else AZURE_DEVOPS_EXT_PAT)"), "push");
}
