import type { Command } from "commander";
import type { ContextFactory } from "./context.js";
import { defineLocalChange } from "./local-change.js";

export function defineAssign(program: Command, context: ContextFactory): void {
  defineLocalChange(program, context, {
    name: "assign",
    description: "assign a local issue to a verified project member, then push it to the linked trackers that take outbound sync",
    examples: ["hooksync assign BACKEND-1 jane.doe@example.com", "hooksync assign BACKEND-1 jane.doe@example.com --strict   # exit 1 when a push failed"],
    args: [["<email>", "the user's email"]],
    change: ([email]) => ({ kind: "assign", email: email! }),
  });
  defineLocalChange(program, context, {
    name: "unassign",
    description: "unassign a local issue, then push it to the linked trackers that take outbound sync",
    examples: ["hooksync unassign BACKEND-1"],
    change: () => ({ kind: "unassign" }),
  });
}
