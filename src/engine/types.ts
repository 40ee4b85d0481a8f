/** The neutral language between providers and the engine: no wire format leaks past here. */

export type Source = "serve" | "replay" | "simulate" | "cli";

export type SyncEvent =
  | { kind: "assignee"; externalKey: string; email: string | null }
  | { kind: "status"; externalKey: string; externalProject: string; from: string | null; to: string };

export interface Change {
  issue: string;
  field: "assignee" | "status";
  from: string | null;
  to: string | null;
}

export interface ApplyContext {
  integrationId: number;
  source: Source;
  deliveryId: number | null;
  at: string;
}

export interface ApplyResult {
  changes: Change[];
  /** Why parts of the payload changed nothing; the outcome's reason when nothing changed. */
  notes: string[];
}

export type IssueStatus = "resolved" | "unresolved";
export type ActivityKind = "assigned" | "unassigned" | "resolved" | "unresolved";

/** What the engine needs from the store; src/store implements it with prepared statements. */
export interface SyncPort {
  syncSettings(integrationId: number): SyncSettingRow[];
  linkedIssues(integrationId: number, externalKey: string): LinkedIssueRow[];
  statusMapping(integrationId: number, externalProject: string): StatusMapping | undefined;
  verifiedUser(email: string): { id: number; email: string } | undefined;
  isProjectMember(userId: number, organizationId: number, projectId: number): boolean;
  setAssignee(issueId: number, userId: number | null): void;
  setStatus(issueId: number, status: IssueStatus): void;
  addActivity(row: ActivityRow): void;
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
