import type { Command } from "commander";
import type { ContextFactory } from "./context.js";
import { defineLocalChange } from "./local-change.js";

export function defineResolve(program: Command, context: ContextFactory): void {
  defineLocalChange(program, context, {
    name: "resolve",
    description: "resolve a local issue, then move the linked tracker issues to their mapped resolved status",
    examples: ["hooksync resolve BACKEND-1", "hooksync resolve BACKEND-1 --strict --json"],
    change: () => ({ kind: "resolve" }),
  });
  defineLocalChange(program, context, {
    name: "unresolve",
    description: "reopen a local issue, then move the linked tracker issues to their mapped unresolved status",
    examples: ["hooksync unresolve BACKEND-1"],
    change: () => ({ kind: "unresolve" }),
  });
}
