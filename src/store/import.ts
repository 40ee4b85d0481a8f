import { RejectedInputError } from "../errors.js";
import { duplicates, Problems } from "./import-checks.js";
import { type ImportFile, validateImport } from "./import-schema.js";
import type { Sql, SqlValue } from "./sql.js";
import type { Store } from "./store.js";

export interface Tally {
  created: number;
  updated: number;
  unchanged: number;
}

export type ImportSummary = Record<keyof ImportFile, Tally>;

const KINDS: (keyof ImportFile)[] = [
  "organizations",
  "projects",
  "users",
  "members",
  "integrations",
  "sync",
  "statusMappings",
  "issues",
  "links",
];

type Row = Record<string, SqlValue>;

const ORG = "SELECT id FROM organizations WHERE slug = ?";
const PROJECT = "SELECT id, organization_id AS org FROM projects WHERE slug = ?";
const USER = "SELECT id FROM users WHERE email = ?";
const INTEGRATION = "SELECT id FROM integrations WHERE external_id = ?";
const MEMBER = "SELECT 1 FROM members WHERE user_id = ? AND organization_id = ?";
const ADD_MEMBER = "INSERT INTO members (user_id, organization_id) VALUES (?, ?)";
const MEMBER_PROJECTS_IN_ORG =
  "SELECT mp.project_id AS id FROM member_projects mp JOIN projects p ON p.id = mp.project_id WHERE mp.user_id = ? AND p.organization_id = ?";
const REMOVE_MEMBER_PROJECT = "DELETE FROM member_projects WHERE user_id = ? AND project_id = ?";
const ADD_MEMBER_PROJECT = "INSERT INTO member_projects (user_id, project_id) VALUES (?, ?)";
const INTEGRATION_SECRET = "SELECT provider, webhook_secret AS s FROM integrations WHERE external_id = ?";
const BELONGS = "SELECT 1 FROM integration_organizations WHERE integration_id = ? AND organization_id = ?";
const PROVIDER = "SELECT provider FROM integrations WHERE id = ?";
const ADD_LINK = `INSERT INTO links (issue_id, integration_id, external_key) VALUES (?, ?, ?)
  ON CONFLICT (integration_id, external_key, issue_id) DO NOTHING`;

/** A link's external key as the provider's webhooks write it, or why it is not one. */
export type KeyNormalizer = (provider: string, raw: string) => { key: string } | { problem: string };

/**
 * Upserts the file in one transaction: all of it or nothing, every problem listed by its JSON
 * path. Importing the same file again changes nothing (webhook secrets are generated only for
 * integrations that have none).
 */
export async function importData(
  store: Store,
  value: unknown,
  newSecret: () => string,
  label: string,
  normalizeKey: KeyNormalizer,
): Promise<ImportSummary> {
  const valid = validateImport(value);
  if (!valid.ok) throw new RejectedInputError(`${label} was refused, nothing imported`, "fix the file and import it again", valid.problems);
  const data = valid.value;
  const problems = new Problems();
  const summary = Object.fromEntries(KINDS.map((k) => [k, { created: 0, updated: 0, unchanged: 0 }])) as ImportSummary;
  duplicates(data, problems);
  if (problems.list.length) throw new RejectedInputError(`${label} was refused, nothing imported`, "fix the file and import it again", problems.list);

  // Any problem found on the way undoes the whole import.
  await store.inTransaction(
    (tx) => new Importer(tx.sql, (key) => tx.links.issueId(key), problems, summary, newSecret, normalizeKey).run(data),
    () => problems.list.length > 0,
  );
  if (problems.list.length) throw new RejectedInputError(`${label} was refused, nothing imported`, "fix the file and import it again", problems.list);
  return summary;
}

/**
 * Writes the file's rows in its order, one statement after the other, through the transaction's
 * statements only. Rows are inserted without their id (PostgreSQL generates it, as SQLite does)
 * and their ids read back by their unique keys.
 */
class Importer {
  constructor(
    private readonly sql: Sql,
    private readonly issueId: (key: string) => Promise<number | undefined>,
    private readonly problems: Problems,
    private readonly summary: ImportSummary,
    private readonly newSecret: () => string,
    private readonly normalizeKey: KeyNormalizer,
  ) {}

  private async id(text: string, key: SqlValue): Promise<number | undefined> {
    return (await this.sql.get<{ id: number }>(text, [key]))?.id;
  }
  private org = (slug: string) => this.id(ORG, slug);
  private project = (slug: string) => this.sql.get<{ id: number; org: number }>(PROJECT, [slug]);
  private user = (email: string) => this.id(USER, email);
  private integration = (externalId: string) => this.id(INTEGRATION, externalId);

  /**
   * Inserts or updates one row, counting what happened; `where` names the row's key columns. Its
   * statements are made from the table and column names: the same text for the same row shape, so
   * the SQLite backend's statement cache still serves them.
   */
  private async upsert(kind: keyof ImportFile, table: string, where: Row, values: Row): Promise<void> {
    const keys = Object.keys(where);
    const keyValues = Object.values(where);
    const cond = keys.map((k) => `${k} = ?`).join(" AND ");
    const cols = Object.keys(values);
    const existing = await this.sql.get<Row>(`SELECT ${[...keys, ...cols].join(", ")} FROM ${table} WHERE ${cond}`, keyValues);
    if (!existing) {
      const all = { ...where, ...values };
      const names = Object.keys(all);
      await this.sql.run(`INSERT INTO ${table} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`, Object.values(all));
      this.summary[kind].created++;
      return;
    }
    const changed = Object.entries(values).filter(([c, v]) => existing[c] !== v);
    if (changed.length === 0) {
      this.summary[kind].unchanged++;
      return;
    }
    await this.sql.run(`UPDATE ${table} SET ${changed.map(([c]) => `${c} = ?`).join(", ")} WHERE ${cond}`, [
      ...changed.map(([, v]) => v),
      ...keyValues,
    ]);
    this.summary[kind].updated++;
  }

  /** Makes the rows under `where` exactly `wanted`; true when anything changed. */
  private async replaceSet(table: string, where: Row, column: string, wanted: number[]): Promise<boolean> {
    const keys = Object.keys(where);
    const keyValues = Object.values(where);
    const cond = keys.map((k) => `${k} = ?`).join(" AND ");
    const rows = await this.sql.all<{ v: number }>(`SELECT ${column} AS v FROM ${table} WHERE ${cond}`, keyValues);
    const have = new Set(rows.map((r) => r.v));
    const want = new Set(wanted);
    let changed = false;
    for (const v of have) {
      if (want.has(v)) continue;
      await this.sql.run(`DELETE FROM ${table} WHERE ${cond} AND ${column} = ?`, [...keyValues, v]);
      changed = true;
    }
    for (const v of want) {
      if (have.has(v)) continue;
      const names = [...keys, column];
      await this.sql.run(`INSERT INTO ${table} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`, [...keyValues, v]);
      changed = true;
    }
    return changed;
  }

  private tallySet(kind: keyof ImportFile, existed: boolean, changed: boolean): void {
    this.summary[kind][!existed ? "created" : changed ? "updated" : "unchanged"]++;
  }

  async run(d: ImportFile): Promise<void> {
    const p = this.problems;
    for (const o of d.organizations ?? []) await this.upsert("organizations", "organizations", { slug: o.slug }, { name: o.name });

    for (const [i, pr] of (d.projects ?? []).entries()) {
      const org = await this.org(pr.organization);
      if (org === undefined) {
        p.add(["projects", i, "organization"], `no organization ${JSON.stringify(pr.organization)}`);
        continue;
      }
      const existing = await this.project(pr.slug);
      if (existing && existing.org !== org) {
        p.add(["projects", i, "organization"], `project ${pr.slug} already belongs to another organization`);
        continue;
      }
      await this.upsert("projects", "projects", { slug: pr.slug }, { organization_id: org, name: pr.name ?? pr.slug });
    }

    for (const u of d.users ?? []) {
      await this.upsert("users", "users", { email: u.email }, { name: u.name ?? null, verified: u.verified ? 1 : 0 });
    }

    for (const [i, m] of (d.members ?? []).entries()) {
      const user = await this.user(m.user);
      const org = await this.org(m.organization);
      if (user === undefined) p.add(["members", i, "user"], `no user ${JSON.stringify(m.user)}`);
      if (org === undefined) p.add(["members", i, "organization"], `no organization ${JSON.stringify(m.organization)}`);
      if (user === undefined || org === undefined) continue;
      const projects: number[] = [];
      for (const [j, slug] of (m.projects ?? []).entries()) {
        const pr = await this.project(slug);
        if (!pr) p.add(["members", i, "projects", j], `no project ${JSON.stringify(slug)}`);
        else if (pr.org !== org) p.add(["members", i, "projects", j], `project ${slug} is not in organization ${m.organization}`);
        else projects.push(pr.id);
      }
      const existed = (await this.sql.get(MEMBER, [user, org])) !== undefined;
      if (!existed) await this.sql.run(ADD_MEMBER, [user, org]);
      // The member's projects within this organization become exactly the listed ones.
      const inOrg = await this.sql.all<{ id: number }>(MEMBER_PROJECTS_IN_ORG, [user, org]);
      const want = new Set(projects);
      let changed = false;
      for (const r of inOrg) {
        if (want.has(r.id)) continue;
        await this.sql.run(REMOVE_MEMBER_PROJECT, [user, r.id]);
        changed = true;
      }
      const have = new Set(inOrg.map((r) => r.id));
      for (const id of want) {
        if (have.has(id)) continue;
        await this.sql.run(ADD_MEMBER_PROJECT, [user, id]);
        changed = true;
      }
      this.tallySet("members", existed, changed);
    }

    for (const [i, it] of (d.integrations ?? []).entries()) {
      const existingSecret = await this.sql.get<{ provider: string; s: string }>(INTEGRATION_SECRET, [it.externalId]);
      if (existingSecret && existingSecret.provider !== it.provider) {
        p.add(["integrations", i, "provider"], `integration ${it.externalId} is already a ${existingSecret.provider} integration`);
        continue;
      }
      const orgs: number[] = [];
      for (const [j, slug] of (it.organizations ?? []).entries()) {
        const org = await this.org(slug);
        if (org === undefined) p.add(["integrations", i, "organizations", j], `no organization ${JSON.stringify(slug)}`);
        else orgs.push(org);
      }
      await this.upsert(
        "integrations",
        "integrations",
        { external_id: it.externalId },
        {
          provider: it.provider,
          name: it.name,
          base_url: it.baseUrl ?? null,
          webhook_secret: it.webhookSecret ?? existingSecret?.s ?? this.newSecret(),
        },
      );
      if (it.organizations) {
        const id = (await this.integration(it.externalId))!;
        const changed = await this.replaceSet("integration_organizations", { integration_id: id }, "organization_id", orgs);
        if (changed && existingSecret) this.promote("integrations");
      }
    }

    for (const [i, s] of (d.sync ?? []).entries()) {
      const org = await this.org(s.organization);
      const integ = await this.integration(s.integration);
      if (org === undefined) p.add(["sync", i, "organization"], `no organization ${JSON.stringify(s.organization)}`);
      if (integ === undefined) p.add(["sync", i, "integration"], `no integration ${JSON.stringify(s.integration)}`);
      if (org === undefined || integ === undefined) continue;
      const belongs = await this.sql.get(BELONGS, [integ, org]);
      if (!belongs) {
        p.add(["sync", i], `integration ${s.integration} does not belong to organization ${s.organization}`);
        continue;
      }
      await this.upsert(
        "sync",
        "sync_settings",
        { organization_id: org, integration_id: integ },
        {
          inbound_assignee: s.inboundAssignee ? 1 : 0,
          inbound_status: s.inboundStatus ? 1 : 0,
          outbound_assignee: s.outboundAssignee ? 1 : 0,
          outbound_status: s.outboundStatus ? 1 : 0,
        },
      );
    }

    for (const [i, m] of (d.statusMappings ?? []).entries()) {
      const integ = await this.integration(m.integration);
      if (integ === undefined) {
        p.add(["statusMappings", i, "integration"], `no integration ${JSON.stringify(m.integration)}`);
        continue;
      }
      const list = (x: string | string[]) => JSON.stringify(Array.isArray(x) ? x : [x]);
      await this.upsert(
        "statusMappings",
        "status_mappings",
        { integration_id: integ, external_project: m.externalProject },
        { resolved: list(m.resolvedStatus), unresolved: list(m.unresolvedStatus) },
      );
    }

    for (const [i, is] of (d.issues ?? []).entries()) {
      const pr = await this.project(is.project);
      if (!pr) p.add(["issues", i, "project"], `no project ${JSON.stringify(is.project)}`);
      let assignee: number | null | undefined;
      if (is.assignee) {
        assignee = await this.user(is.assignee);
        if (assignee === undefined) p.add(["issues", i, "assignee"], `no user ${JSON.stringify(is.assignee)}`);
      } else if (is.assignee === null) assignee = null;
      if (!pr || (is.assignee && assignee === undefined)) continue;
      await this.upsert("issues", "issues", { key: is.id }, {
        project_id: pr.id,
        title: is.title,
        ...(is.status ? { status: is.status } : {}),
        ...(assignee !== undefined ? { assignee_id: assignee } : {}),
      });
    }

    for (const [i, l] of (d.links ?? []).entries()) {
      const issue = await this.issueId(l.issue);
      const integ = await this.integration(l.integration);
      if (issue === undefined) p.add(["links", i, "issue"], `no issue ${JSON.stringify(l.issue)}`);
      if (integ === undefined) p.add(["links", i, "integration"], `no integration ${JSON.stringify(l.integration)}`);
      if (issue === undefined || integ === undefined) continue;
      const { provider } = (await this.sql.get<{ provider: string }>(PROVIDER, [integ]))!;
      const key = this.normalizeKey(provider, l.externalKey);
      if ("problem" in key) {
        p.add(["links", i, "externalKey"], key.problem);
        continue;
      }
      const changes = await this.sql.run(ADD_LINK, [issue, integ, key.key]);
      this.summary.links[changes ? "created" : "unchanged"]++;
    }
  }

  /** A row whose own columns were unchanged but whose set changed counts as updated. */
  private promote(kind: keyof ImportFile): void {
    const t = this.summary[kind];
    if (t.unchanged > 0) {
      t.unchanged--;
      t.updated++;
    }
  }
}
