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

/** What the engine needs from the store; src/store implements it (SyncRepo). */
export interface SyncPort {
  syncSettings(integrationId: number): Promise<SyncSettingRow[]>;
  /**
   * The issues linked to the external issue, with the revision kept for one of its fields (rule
   * 10.1): read together, so judging the order costs replay's hot path no statement of its own.
   */
  linkedIssues(integrationId: number, externalKey: string, field: Change["field"]): Promise<LinkedIssues>;
  statusMapping(integrationId: number, externalProject: string): Promise<StatusMapping | undefined>;
  verifiedUser(email: string): Promise<{ id: number; email: string } | undefined>;
  isProjectMember(userId: number, organizationId: number, projectId: number): Promise<boolean>;
  setAssignee(issueId: number, userId: number | null): Promise<void>;
  setStatus(issueId: number, status: IssueStatus): Promise<void>;
  addActivity(row: ActivityRow): Promise<void>;
  /** Rule 10.2: keeps revision as the newest judged for the external issue's field, unless a newer one is kept. */
  keepRevision(integrationId: number, externalKey: string, field: Change["field"], revision: number): Promise<void>;
}

export interface LinkedIssues {
  issues: LinkedIssueRow[];
  /** The newest revision judged for the field, null when none was kept. */
  revision: number | null;
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
