import { record } from "./engine.js";
import type { ApplyResult, LinkedIssueRow, SyncPort } from "./types.js";

/** A change made on the command line (assign, unassign, resolve, unresolve). */
export type LocalChange = { kind: "assign"; email: string } | { kind: "unassign" } | { kind: "resolve" } | { kind: "unresolve" };

export interface LocalPort extends Pick<SyncPort, "verifiedUser" | "isProjectMember" | "setAssignee" | "setStatus" | "addActivity"> {
  issue(key: string): Promise<LinkedIssueRow | undefined>;
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
  switch (change.kind) {
    case "assign": {
      const user = await port.verifiedUser(change.email);
      if (!user || !(await port.isProjectMember(user.id, issue.organizationId, issue.projectId))) {
        result.refused = `no verified member ${change.email} in project ${issue.project}`;
      } else if (issue.assigneeId === user.id) {
        result.notes.push(`${issue.key} is already assigned to ${user.email}`);
      } else {
        await port.setAssignee(issue.issueId, user.id);
        await record(port, ctx, result, issue, "assignee", "assigned", issue.assigneeEmail, user.email);
      }
      break;
    }
    case "unassign":
      if (issue.assigneeId === null) result.notes.push(`${issue.key} is not assigned`);
      else {
        await port.setAssignee(issue.issueId, null);
        await record(port, ctx, result, issue, "assignee", "unassigned", issue.assigneeEmail, null);
      }
      break;
    case "resolve":
    case "unresolve": {
      const target = change.kind === "resolve" ? "resolved" : "unresolved";
      if (issue.status === target) result.notes.push(`${issue.key} is already ${target}`);
      else {
        await port.setStatus(issue.issueId, target);
        await record(port, ctx, result, issue, "status", target, issue.status, target);
      }
    }
  }
  return result;
}
