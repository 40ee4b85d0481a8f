/** The neutral language between providers and the engine: no wire format leaks past here. */

export type Source = "serve" | "replay" | "simulate" | "cli";

/**
 * Rule 10.1: how far along the tracker's history a payload is, so a late one cannot undo a newer
 * one. "rev" is a work item revision number, "time" milliseconds since the epoch; the kind only
 * says how to name the value in a reason, revisions of one integration are always of one kind.
 */
export interface Revision {
  kind: "rev" | "time";
  value: number;
}

export type SyncEvent = (
  | { kind: "assignee"; externalKey: string; email: string | null }
  | { kind: "status"; externalKey: string; externalProject: string; from: string | null; to: string }
) & {
  /** null: the payload carries none, and is applied whatever was applied before. */
  revision: Revision | null;
};

/** A change as cli.md shows it (outcome lines, the delivery log, --json). */
export interface ShownChange {
  issue: string;
  field: "assignee" | "status";
  from: string | null;
  to: string | null;
}

/** A change as the engine made it: the issue's row id rides along for the outbox, and is never shown. */
export interface Change extends ShownChange {
  issueId: number;
}

export const shownChange = ({ issueId: _, ...shown }: Change): ShownChange => shown;

export interface ApplyContext {
  integrationId: number;
  source: Source;
  deliveryId: number | null;
  at: string;
  /** `replay --ignore-order`: apply payloads older than the revision kept (rule 10.3). */
  ignoreOrder?: boolean;
}

export interface ApplyResult {
  changes: Change[];
  /** Why parts of the payload changed nothing; the outcome's reason when nothing changed. */
  notes: string[];
}

export type IssueStatus = "resolved" | "unresolved";
export type ActivityKind = "assigned" | "unassigned" | "resolved" | "unresolved";

/**
 * What the engine needs from the store; src/store implements it (SyncRepo). Applying a payload is
 * load, decide, write: one read of everything its events can touch, the rules decided on those
 * rows with no I/O, then the writes. Each step is one call, so a payload costs the backend a few
 * statements and the event loop a few awaits, whichever backend holds the store.
 */
export interface SyncPort {
  load(integrationId: number, needs: Needs): Promise<Loaded>;
  /** The writes decided, in their order; nothing is run when there are none. */
  write(writes: Writes): Promise<void>;
}

/** What a payload's events name: the rows they can touch are read for these. */
export interface Needs {
  externalKeys: string[];
  externalProjects: string[];
  emails: string[];
}

export interface Loaded {
  settings: SyncSettingRow[];
  /** By external key: the linked issues and the revisions kept for the external issue. */
  links: Map<string, LinkedIssues>;
  /** By external project; undefined: no mapping. */
  mappings: Map<string, StatusMapping | undefined>;
  /** By email; undefined: no verified user has it. */
  users: Map<string, VerifiedUser | undefined>;
}

export interface LinkedIssues {
  issues: LinkedIssueRow[];
  /** Rule 10.1: the newest revision judged for each field, null when none was kept. */
  revisions: Record<Change["field"], number | null>;
}

export interface VerifiedUser {
  id: number;
  email: string;
  /** The projects the user may be assigned in (rule 4.4): a member of the project and of its organization. */
  projects: ReadonlySet<number>;
}

/** One issue's row as the changes leave it: only the fields that changed. */
export interface IssueWrite {
  issueId: number;
  assigneeId?: number | null;
  status?: IssueStatus;
}

/** Rule 10.2: revision kept as the newest judged for the external issue's field, unless a newer one is kept. */
export interface RevisionWrite {
  integrationId: number;
  externalKey: string;
  field: Change["field"];
  revision: number;
}

export interface Writes {
  issues: IssueWrite[];
  activity: ActivityRow[];
  revisions: RevisionWrite[];
}

export interface SyncSettingRow {
  organizationId: number;
  organization: string;
  inboundAssignee: boolean;
  inboundStatus: boolean;
}

export interface LinkedIssueRow {
  issueId: number;
  key: string;
  projectId: number;
  project: string;
  organizationId: number;
  status: IssueStatus;
  assigneeId: number | null;
  assigneeEmail: string | null;
}

export interface StatusMapping {
  resolved: string[];
  unresolved: string[];
}

export interface ActivityRow {
  issueId: number;
  kind: ActivityKind;
  from: string | null;
  to: string | null;
  source: Source;
  deliveryId: number | null;
  at: string;
}
