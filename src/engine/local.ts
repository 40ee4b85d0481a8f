import { recordChange, writesNone } from "./engine.js";
import type { ApplyResult, LinkedIssueRow, SyncPort, VerifiedUser } from "./types.js";

/** A change made on the command line (assign, unassign, resolve, unresolve). */
export type LocalChange = { kind: "assign"; email: string } | { kind: "unassign" } | { kind: "resolve" } | { kind: "unresolve" };

export interface LocalPort extends Pick<SyncPort, "write"> {
  issue(key: string): Promise<LinkedIssueRow | undefined>;
  verifiedUser(email: string): Promise<VerifiedUser | undefined>;
}

export interface LocalResult extends ApplyResult {
  /** Why the change was refused (the user may not be assigned); nothing was written. */
  refused: string | null;
}

/**
 * Applies a local change under the rules inbound changes follow: rule 1.2 (nothing written when
 * nothing changes), 1.3 (one activity row, source "cli") and 4.4 (only a verified member of the
 * issue's project can be assigned). The caller owns the transaction. Undefined: no such issue.
 */
export async function applyLocal(port: LocalPort, key: string, change: LocalChange, at: string): Promise<LocalResult | undefined> {
  const issue = await port.issue(key);
  if (!issue) return undefined;
  const ctx = { source: "cli", deliveryId: null, at } as const;
  const result: LocalResult = { changes: [], notes: [], refused: null };
  const writes = writesNone();
  switch (change.kind) {
    case "assign": {
      const user = await port.verifiedUser(change.email);
      if (!user?.projects.has(issue.projectId)) {
        result.refused = `no verified member ${change.email} in project ${issue.project}`;
      } else if (issue.assigneeId === user.id) {
        result.notes.push(`${issue.key} is already assigned to ${user.email}`);
      } else {
        const from = issue.assigneeEmail;
        issue.assigneeId = user.id;
        recordChange(writes, ctx, result, issue, "assignee", "assigned", from, user.email);
      }
      break;
    }
    case "unassign":
      if (issue.assigneeId === null) result.notes.push(`${issue.key} is not assigned`);
      else {
        const from = issue.assigneeEmail;
        issue.assigneeId = null;
        recordChange(writes, ctx, result, issue, "assignee", "unassigned", from, null);
      }
      break;
    case "resolve":
    case "unresolve": {
      const target = change.kind === "resolve" ? "resolved" : "unresolved";
      if (issue.status === target) result.notes.push(`${issue.key} is already ${target}`);
      else {
        const from = issue.status;
        issue.status = target;
        recordChange(writes, ctx, result, issue, "status", target, from, target);
      }
    }
  }
  await port.write(writes);
  return result;
}
