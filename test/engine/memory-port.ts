import type { LocalPort } from "../../src/engine/local.js";
import type {
  ActivityRow,
  Change,
  IssueStatus,
  LinkedIssueRow,
  LinkedIssues,
  Loaded,
  Needs,
  StatusMapping,
  SyncPort,
  SyncSettingRow,
  VerifiedUser,
  Writes,
} from "../../src/engine/types.js";
import type { fullDataset } from "../world.js";

type Dataset = ReturnType<typeof fullDataset>;
type Field = Change["field"];

interface Issue {
  id: number;
  key: string;
  projectId: number;
  status: IssueStatus;
  assigneeId: number | null;
}

const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

/**
 * The engine's SyncPort over plain maps, answering as src/store/sync-repo.ts does: the rule tests
 * run the pure engine against it in microseconds, with no store, no CLI and no payload. Built from
 * a dataset in `hooksync import`'s shape (the world's), numbering rows in the order they come;
 * integrations are numbered 1, 2... and found by their externalId with integrationId().
 */
export class MemoryPort implements SyncPort, LocalPort {
  readonly activity: ActivityRow[] = [];
  /** Every write through the port, in order: "assignee BACKEND-1", "status WEB-1", "revision 5 assignee 9"... */
  readonly writes: string[] = [];
  private readonly integrations = new Map<string, { id: number; organizations: number[] }>();
  private readonly organizations = new Map<string, number>();
  private readonly projects = new Map<string, { id: number; organizationId: number }>();
  private readonly users = new Map<string, { id: number; email: string; verified: boolean }>();
  /** "user:organization" and "user:project" of every member. */
  private readonly memberships = new Set<string>();
  private readonly settings = new Map<string, { inboundAssignee: boolean; inboundStatus: boolean }>();
  private readonly mappings = new Map<string, StatusMapping>();
  private readonly issues = new Map<string, Issue>();
  private readonly links: { issueId: number; integrationId: number; externalKey: string }[] = [];
  private readonly revisions = new Map<string, number>();

  constructor(d: Dataset) {
    d.organizations.forEach((o, i) => this.organizations.set(o.slug, i + 1));
    d.projects.forEach((p, i) => this.projects.set(p.slug, { id: i + 1, organizationId: this.organizations.get(p.organization)! }));
    d.users.forEach((u, i) => this.users.set(u.email, { id: i + 1, email: u.email, verified: u.verified }));
    for (const m of d.members) {
      const user = this.users.get(m.user)!.id;
      this.memberships.add(`${user}:org${this.organizations.get(m.organization)}`);
      for (const p of m.projects) this.memberships.add(`${user}:project${this.projects.get(p)!.id}`);
    }
    d.integrations.forEach((g, i) => this.integrations.set(g.externalId, { id: i + 1, organizations: g.organizations.map((o) => this.organizations.get(o)!) }));
    for (const s of d.sync) {
      this.settings.set(`${this.integrationId(s.integration)}:${this.organizations.get(s.organization)}`, { inboundAssignee: s.inboundAssignee, inboundStatus: s.inboundStatus });
    }
    for (const m of d.statusMappings) {
      this.mappings.set(`${this.integrationId(m.integration)}:${m.externalProject}`, { resolved: list(m.resolvedStatus), unresolved: list(m.unresolvedStatus) });
    }
    d.issues.forEach((i, n) =>
      this.issues.set(i.id, {
        id: n + 1,
        key: i.id,
        projectId: this.projects.get(i.project)!.id,
        status: i.status,
        assigneeId: i.assignee === null ? null : this.users.get(i.assignee)!.id,
      }),
    );
    for (const l of d.links) this.links.push({ issueId: this.issues.get(l.issue)!.id, integrationId: this.integrationId(l.integration), externalKey: l.externalKey });
  }

  integrationId(externalId: string): number {
    return this.integrations.get(externalId)!.id;
  }

  /** An issue's state as `hooksync issue list` shows it. */
  state(key: string): { status: IssueStatus; assignee: string | null } {
    const i = this.issues.get(key)!;
    return { status: i.status, assignee: this.emailOf(i.assigneeId) };
  }

  /** The revision kept for the external issue's field, null when none. */
  kept(integrationId: number, externalKey: string, field: Field): number | null {
    return this.revisions.get(`${integrationId}:${externalKey}:${field}`) ?? null;
  }

  // ---- SyncPort ----

  async load(integrationId: number, needs: Needs): Promise<Loaded> {
    return {
      settings: this.syncSettings(integrationId),
      links: new Map(needs.externalKeys.map((key) => [key, this.linkedIssues(integrationId, key)])),
      mappings: new Map(needs.externalProjects.map((project) => [project, this.mappings.get(`${integrationId}:${project}`)])),
      users: new Map(needs.emails.map((email) => [email, this.verifiedUserNow(email)])),
    };
  }

  async write(w: Writes): Promise<void> {
    for (const change of w.issues) {
      const i = this.byId(change.issueId);
      if (change.assigneeId !== undefined) {
        i.assigneeId = change.assigneeId;
        this.writes.push(`assignee ${i.key}`);
      }
      if (change.status !== undefined) {
        i.status = change.status;
        this.writes.push(`status ${i.key}`);
      }
    }
    for (const row of w.activity) {
      this.activity.push(row);
      this.writes.push(`activity ${this.byId(row.issueId).key} ${row.kind}`);
    }
    for (const r of w.revisions) {
      const key = `${r.integrationId}:${r.externalKey}:${r.field}`;
      // Never lowers what is kept, as the store's upsert.
      if (r.revision > (this.revisions.get(key) ?? -Infinity)) this.revisions.set(key, r.revision);
      this.writes.push(`revision ${r.externalKey} ${r.field} ${r.revision}`);
    }
  }

  // ---- LocalPort ----

  async issue(key: string): Promise<LinkedIssueRow | undefined> {
    const i = this.issues.get(key);
    return i && this.row(i);
  }

  async verifiedUser(email: string): Promise<VerifiedUser | undefined> {
    return this.verifiedUserNow(email);
  }

  private syncSettings(integrationId: number): SyncSettingRow[] {
    const integration = [...this.integrations.values()].find((g) => g.id === integrationId)!;
    return integration.organizations.map((organizationId) => {
      const s = this.settings.get(`${integrationId}:${organizationId}`);
      const organization = [...this.organizations].find(([, id]) => id === organizationId)![0];
      return { organizationId, organization, inboundAssignee: s?.inboundAssignee ?? false, inboundStatus: s?.inboundStatus ?? false };
    });
  }

  /** Fresh rows each time, as the store reads them: the engine changes its copies as it decides. */
  private linkedIssues(integrationId: number, externalKey: string): LinkedIssues {
    const issues: LinkedIssueRow[] = this.links
      .filter((l) => l.integrationId === integrationId && l.externalKey === externalKey)
      .map((l) => this.byId(l.issueId))
      .sort((a, b) => a.key.localeCompare(b.key))
      .map((i) => this.row(i));
    // The store reads the revisions on the links' rows: with no linked issue there are none.
    const kept = (field: Field) => (issues.length ? this.kept(integrationId, externalKey, field) : null);
    return { issues, revisions: { assignee: kept("assignee"), status: kept("status") } };
  }

  private row(i: Issue): LinkedIssueRow {
    const [project, p] = [...this.projects].find(([, p]) => p.id === i.projectId)!;
    return { issueId: i.id, key: i.key, projectId: i.projectId, project, organizationId: p.organizationId, status: i.status, assigneeId: i.assigneeId, assigneeEmail: this.emailOf(i.assigneeId) };
  }

  private verifiedUserNow(email: string): VerifiedUser | undefined {
    const u = this.users.get(email);
    if (!u?.verified) return undefined;
    const projects = [...this.projects.values()].filter((p) => this.memberships.has(`${u.id}:org${p.organizationId}`) && this.memberships.has(`${u.id}:project${p.id}`));
    return { id: u.id, email: u.email, projects: new Set(projects.map((p) => p.id)) };
  }

  private byId(issueId: number): Issue {
    return [...this.issues.values()].find((i) => i.id === issueId)!;
  }

  private emailOf(userId: number | null): string | null {
    return userId === null ? null : [...this.users.values()].find((u) => u.id === userId)!.email;
  }
}
