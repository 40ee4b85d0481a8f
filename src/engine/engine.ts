import type {
  ApplyContext,
  ApplyResult,
  Change,
  IssueStatus,
  LinkedIssueRow,
  LinkedIssues,
  Loaded,
  Needs,
  Revision,
  SyncEvent,
  SyncPort,
  SyncSettingRow,
  Writes,
} from "./types.js";

/**
 * Applies a payload's events under behaviour.md rules 1, 4, 5 and 10: the rows they can touch
 * loaded, the rules decided on them, the writes made. The caller owns the transaction (one per
 * payload, rolled back for --dry-run), so this is the same for serve, replay and simulate.
 */
export async function applyEvents(port: SyncPort, ctx: ApplyContext, events: readonly SyncEvent[]): Promise<ApplyResult> {
  if (events.length === 0) return { changes: [], notes: [] };
  const { result, writes } = decide(await port.load(ctx.integrationId, needsOf(events)), ctx, events);
  await port.write(writes);
  return result;
}

/** The keys, projects and emails the events name, each once. */
function needsOf(events: readonly SyncEvent[]): Needs {
  const keys = new Set<string>();
  const projects = new Set<string>();
  const emails = new Set<string>();
  for (const e of events) {
    keys.add(e.externalKey);
    if (e.kind === "status") projects.add(e.externalProject);
    else if (e.email !== null) emails.add(e.email);
  }
  return { externalKeys: [...keys], externalProjects: [...projects], emails: [...emails] };
}

/** An empty set of writes, for a decision to fill in. */
export const writesNone = (): Writes => ({ issues: [], activity: [], revisions: [] });

/**
 * The rules on loaded rows, without I/O. The rows are this payload's own copies: a change made
 * by one event is what the next event of the payload sees, as if each had read the store anew.
 */
function decide(loaded: Loaded, ctx: ApplyContext, events: readonly SyncEvent[]): { result: ApplyResult; writes: Writes } {
  const d = new Decision(ctx);
  for (const event of events) {
    const links = loaded.links.get(event.externalKey) ?? { issues: [], revisions: { assignee: null, status: null } };
    if (event.kind === "assignee") d.assignee(loaded, links, event);
    else d.status(loaded, links, event);
  }
  return { result: d.result, writes: d.writes };
}

class Decision {
  readonly result: ApplyResult = { changes: [], notes: [] };
  readonly writes = writesNone();

  constructor(private readonly ctx: ApplyContext) {}

  assignee(loaded: Loaded, links: LinkedIssues, event: Extract<SyncEvent, { kind: "assignee" }>): void {
    const issues = this.affected(loaded.settings, links, event, "assignee");
    if (issues.length === 0) return;
    if (event.email === null) {
      for (const issue of issues) {
        if (issue.assigneeId === null) continue;
        const from = issue.assigneeEmail;
        issue.assigneeId = null;
        issue.assigneeEmail = null;
        this.change(issue, "assignee", "unassigned", from, null);
      }
      return;
    }
    const user = loaded.users.get(event.email);
    for (const issue of issues) {
      // Rule 4.4: only a verified member of the issue's project (and its organization) is assigned.
      if (!user?.projects.has(issue.projectId)) {
        this.result.notes.push(`no verified member ${event.email} in project ${issue.project}`);
        continue;
      }
      if (issue.assigneeId === user.id) continue;
      const from = issue.assigneeEmail;
      issue.assigneeId = user.id;
      issue.assigneeEmail = user.email;
      this.change(issue, "assignee", "assigned", from, user.email);
    }
  }

  status(loaded: Loaded, links: LinkedIssues, event: Extract<SyncEvent, { kind: "status" }>): void {
    const issues = this.affected(loaded.settings, links, event, "status");
    if (issues.length === 0) return;
    const mapping = loaded.mappings.get(event.externalProject);
    if (!mapping) {
      this.result.notes.push(`no status mapping for project ${event.externalProject}`);
      return;
    }
    // Rule 5.5: only the explicit mapping decides; a move between unmapped states changes nothing.
    let target: IssueStatus;
    if (mapping.resolved.includes(event.to)) target = "resolved";
    else if (mapping.unresolved.includes(event.to)) target = "unresolved";
    else {
      this.result.notes.push(`status ${event.to} is not in the mapping for project ${event.externalProject}`);
      return;
    }
    for (const issue of issues) {
      if (issue.status === target) continue;
      const from = issue.status;
      issue.status = target;
      this.change(issue, "status", target, from, target);
    }
  }

  /**
   * Rules 4.2 / 5.1: the linked issues whose organization takes part in this field's sync, once
   * rule 10.2 found the payload not older than what was applied to the field.
   */
  private affected(settings: SyncSettingRow[], links: LinkedIssues, event: SyncEvent, field: Change["field"]): LinkedIssueRow[] {
    if (links.issues.length === 0) {
      this.result.notes.push(`no linked issue for ${event.externalKey}`);
      return [];
    }
    if (!this.inOrder(links, event, field)) return [];
    const enabled = field === "assignee" ? (s: SyncSettingRow) => s.inboundAssignee : (s: SyncSettingRow) => s.inboundStatus;
    const on = new Set(settings.filter(enabled).map((s) => s.organizationId));
    const affected = links.issues.filter((i) => on.has(i.organizationId));
    if (affected.length < links.issues.length) {
      const off = new Set(links.issues.filter((i) => !on.has(i.organizationId)).map((i) => i.organizationId));
      const names = settings.filter((s) => off.has(s.organizationId)).map((s) => s.organization);
      this.result.notes.push(`inbound ${field} sync is off${names.length ? ` for ${names.join(", ")}` : ""}`);
    }
    return affected;
  }

  /**
   * Rule 10.2, for a linked external issue's field: false (with a note) when a newer revision of
   * it was applied already; otherwise this one is kept as the newest, whether or not its value
   * changes anything (or its sync is off), so a payload older still is refused later. Only linked
   * external issues keep revisions: the rest of an organization's traffic adds no rows.
   */
  private inOrder(links: LinkedIssues, event: SyncEvent, field: Change["field"]): boolean {
    const revision = event.revision;
    const kept = links.revisions[field];
    if (revision === null || kept === revision.value) return true;
    if (kept === null || revision.value > kept) {
      // Kept once per field, the newest: a row is written once a payload.
      const write = this.writes.revisions.find((r) => r.externalKey === event.externalKey && r.field === field);
      if (write) write.revision = revision.value;
      else this.writes.revisions.push({ integrationId: this.ctx.integrationId, externalKey: event.externalKey, field, revision: revision.value });
      links.revisions[field] = revision.value;
      return true;
    }
    // --ignore-order applies it, and the newer revision stays kept for the runs after this one.
    if (this.ctx.ignoreOrder) return true;
    // One payload's assignee and status are usually refused for the same pair of revisions.
    const note = `stale: ${shown(revision)} after ${shown({ kind: revision.kind, value: kept })}`;
    if (!this.result.notes.includes(note)) this.result.notes.push(note);
    return false;
  }

  private change(issue: LinkedIssueRow, field: Change["field"], kind: "assigned" | "unassigned" | "resolved" | "unresolved", from: string | null, to: string | null): void {
    recordChange(this.writes, this.ctx, this.result, issue, field, kind, from, to);
  }
}

const shown = (r: Revision): string => (r.kind === "rev" ? `rev ${r.value}` : new Date(r.value).toISOString());

/**
 * One change, made on the issue's row already: the row's new value to write, its activity row
 * (rule 1.3) and its entry in the result. An issue changed twice in one payload is written once.
 */
export function recordChange(
  writes: Writes,
  ctx: Pick<ApplyContext, "source" | "deliveryId" | "at">,
  result: ApplyResult,
  issue: LinkedIssueRow,
  field: Change["field"],
  kind: "assigned" | "unassigned" | "resolved" | "unresolved",
  from: string | null,
  to: string | null,
): void {
  let row = writes.issues.find((w) => w.issueId === issue.issueId);
  if (!row) writes.issues.push((row = { issueId: issue.issueId }));
  if (field === "status") row.status = issue.status;
  else row.assigneeId = issue.assigneeId;
  writes.activity.push({ issueId: issue.issueId, kind, from, to, source: ctx.source, deliveryId: ctx.deliveryId, at: ctx.at });
  result.changes.push({ issue: issue.key, issueId: issue.issueId, field, from, to });
}
