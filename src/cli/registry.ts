import type { Command } from "commander";
import type { ContextFactory } from "./context.js";
import { defineActivity } from "./activity.js";
import { defineImport } from "./import.js";
import { defineInit } from "./init.js";
import { defineIssue } from "./issue.js";
import { defineReplay } from "./replay.js";

export type DefineCommand = (program: Command, context: ContextFactory) => void;

/** The whole command tree, in the order `hooksync --help` lists it. */
export const commands: DefineCommand[] = [defineInit, defineImport, defineIssue, defineActivity, defineReplay];
