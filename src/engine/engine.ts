import type {
  ApplyContext,
  ApplyResult,
  Change,
  IssueStatus,
  LinkedIssueRow,
  Revision,
  SyncEvent,
  SyncPort,
  SyncSettingRow,
} from "./types.js";

/**
 * Applies a payload's events under behaviour.md rules 1, 4, 5 and 10. The caller owns the
 * transaction (one per payload, rolled back for --dry-run); this function only reads and
 * writes through the port, so it is the same for serve, replay and simulate.
 */
export async function applyEvents(port: SyncPort, ctx: ApplyContext, events: readonly SyncEvent[]): Promise<ApplyResult> {
  const result: ApplyResult = { changes: [], notes: [] };
  if (events.length === 0) return result;
  const settings = await port.syncSettings(ctx.integrationId);
  for (const event of events) {
    if (event.kind === "assignee") await applyAssignee(port, ctx, settings, event, result);
    else await applyStatus(port, ctx, settings, event, result);
  }
  return result;
}

/**
 * Rules 4.2 / 5.1: the linked issues whose organization takes part in this field's sync, once
 * rule 10.2 found the payload not older than what was applied to the field.
 */
async function affectedIssues(
  port: SyncPort,
  ctx: ApplyContext,
  settings: SyncSettingRow[],
  event: SyncEvent,
  field: Change["field"],
  result: ApplyResult,
): Promise<LinkedIssueRow[]> {
  const { issues: linked, revision: kept } = await port.linkedIssues(ctx.integrationId, event.externalKey, field);
  if (linked.length === 0) {
    result.notes.push(`no linked issue for ${event.externalKey}`);
    return [];
  }
  if (!(await inOrder(port, ctx, event, field, kept, result))) return [];
  const enabled = field === "assignee" ? (s: SyncSettingRow) => s.inboundAssignee : (s: SyncSettingRow) => s.inboundStatus;
  const on = new Set(settings.filter(enabled).map((s) => s.organizationId));
  const affected = linked.filter((i) => on.has(i.organizationId));
  if (affected.length < linked.length) {
    const off = new Set(linked.filter((i) => !on.has(i.organizationId)).map((i) => i.organizationId));
    const names = settings.filter((s) => off.has(s.organizationId)).map((s) => s.organization);
    result.notes.push(`inbound ${field} sync is off${names.length ? ` for ${names.join(", ")}` : ""}`);
  }
  return affected;
}

async function applyAssignee(
  port: SyncPort,
  ctx: ApplyContext,
  settings: SyncSettingRow[],
  event: Extract<SyncEvent, { kind: "assignee" }>,
  result: ApplyResult,
): Promise<void> {
  const issues = await affectedIssues(port, ctx, settings, event, "assignee", result);
  if (issues.length === 0) return;

  if (event.email === null) {
    for (const issue of issues) {
      if (issue.assigneeId === null) continue;
      await port.setAssignee(issue.issueId, null);
      await record(port, ctx, result, issue, "assignee", "unassigned", issue.assigneeEmail, null);
    }
    return;
  }

  const user = await port.verifiedUser(event.email);
  for (const issue of issues) {
    if (!user || !(await port.isProjectMember(user.id, issue.organizationId, issue.projectId))) {
      result.notes.push(`no verified member ${event.email} in project ${issue.project}`);
      continue;
    }
    if (issue.assigneeId === user.id) continue;
    await port.setAssignee(issue.issueId, user.id);
    await record(port, ctx, result, issue, "assignee", "assigned", issue.assigneeEmail, user.email);
  }
}

async function applyStatus(
  port: SyncPort,
  ctx: ApplyContext,
  settings: SyncSettingRow[],
  event: Extract<SyncEvent, { kind: "status" }>,
  result: ApplyResult,
): Promise<void> {
  const issues = await affectedIssues(port, ctx, settings, event, "status", result);
  if (issues.length === 0) return;
  const mapping = await port.statusMapping(ctx.integrationId, event.externalProject);
  if (!mapping) {
    result.notes.push(`no status mapping for project ${event.externalProject}`);
    return;
  }
  // Rule 5.5: only the explicit mapping decides; a move between unmapped states changes nothing.
  let target: IssueStatus;
  if (mapping.resolved.includes(event.to)) target = "resolved";
  else if (mapping.unresolved.includes(event.to)) target = "unresolved";
  else {
    result.notes.push(`status ${event.to} is not in the mapping for project ${event.externalProject}`);
    return;
  }
  for (const issue of issues) {
    if (issue.status === target) continue;
    await port.setStatus(issue.issueId, target);
    await record(port, ctx, result, issue, "status", target, issue.status, target);
  }
}

/**
 * Rule 10.2, for a linked external issue's field: false (with a note) when a newer revision of it
 * was applied already; otherwise this one is kept as the newest, whether or not its value changes
 * anything (or its sync is off), so a payload older still is refused later. Only linked external
 * issues keep revisions: the rest of an organization's traffic adds no rows.
 */
async function inOrder(port: SyncPort, ctx: ApplyContext, event: SyncEvent, field: Change["field"], kept: number | null, result: ApplyResult): Promise<boolean> {
  const revision = event.revision;
  if (revision === null || kept === revision.value) return true;
  if (kept === null || revision.value > kept) {
    await port.keepRevision(ctx.integrationId, event.externalKey, field, revision.value);
    return true;
  }
  // --ignore-order applies it, and the newer revision stays kept for the runs after this one.
  if (ctx.ignoreOrder) return true;
  // One payload's assignee and status are usually refused for the same pair of revisions.
  const note = `stale: ${shown(revision)} after ${shown({ kind: revision.kind, value: kept })}`;
  if (!result.notes.includes(note)) result.notes.push(note);
  return false;
}

const shown = (r: Revision): string => (r.kind === "rev" ? `rev ${r.value}` : new Date(r.value).toISOString());

/** One change: its activity row (rule 1.3) and its entry in the result. */
export async function record(
  port: Pick<SyncPort, "addActivity">,
  ctx: Pick<ApplyContext, "source" | "deliveryId" | "at">,
  result: ApplyResult,
  issue: LinkedIssueRow,
  field: Change["field"],
  kind: "assigned" | "unassigned" | "resolved" | "unresolved",
  from: string | null,
  to: string | null,
): Promise<void> {
  await port.addActivity({ issueId: issue.issueId, kind, from, to, source: ctx.source, deliveryId: ctx.deliveryId, at: ctx.at });
  result.changes.push({ issue: issue.key, issueId: issue.issueId, field, from, to });
}
