import { RejectedInputError } from "../errors.js";
import type { Db } from "./db.js";
import { duplicates, Problems } from "./import-checks.js";
import { type ImportFile, validateImport } from "./import-schema.js";
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

type Row = Record<string, unknown>;

/**
 * Upserts the file in one transaction: all of it or nothing, every problem listed by its JSON
 * path. Importing the same file again changes nothing (webhook secrets are generated only for
 * integrations that have none).
 */
/** A link's external key as the provider's webhooks write it, or why it is not one. */
export type KeyNormalizer = (provider: string, raw: string) => { key: string } | { problem: string };

export function importData(store: Store, value: unknown, newSecret: () => string, label: string, normalizeKey: KeyNormalizer): ImportSummary {
  const valid = validateImport(value);
  if (!valid.ok) throw new RejectedInputError(`${label} was refused, nothing imported`, "fix the file and import it again", valid.problems);
  const data = valid.value;
  const problems = new Problems();
  const summary = Object.fromEntries(KINDS.map((k) => [k, { created: 0, updated: 0, unchanged: 0 }])) as ImportSummary;
  duplicates(data, problems);
  if (problems.list.length) throw new RejectedInputError(`${label} was refused, nothing imported`, "fix the file and import it again", problems.list);

  // Any problem found on the way undoes the whole import.
  store.inTransaction(
    () => new Importer(store.db, (key) => store.links.issueId(key), problems, summary, newSecret, normalizeKey).run(data),
    () => problems.list.length > 0,
  );
  if (problems.list.length) throw new RejectedInputError(`${label} was refused, nothing imported`, "fix the file and import it again", problems.list);
  return summary;
}

class Importer {
  constructor(
    private readonly db: Db,
    private readonly issueId: (key: string) => number | undefined,
    private readonly problems: Problems,
    private readonly summary: ImportSummary,
    private readonly newSecret: () => string,
    private readonly normalizeKey: KeyNormalizer,
  ) {}

  private id(sql: string, key: unknown): number | undefined {
    return (this.db.prepare(sql).get(key) as { id: number } | undefined)?.id;
  }
  private org = (slug: string) => this.id("SELECT id FROM organizations WHERE slug = ?", slug);
  private project = (slug: string) =>
    this.db.prepare("SELECT id, organization_id AS org FROM projects WHERE slug = ?").get(slug) as
      | { id: number; org: number }
      | undefined;
  private user = (email: string) => this.id("SELECT id FROM users WHERE email = ?", email);
  private integration = (externalId: string) => this.id("SELECT id FROM integrations WHERE external_id = ?", externalId);

  /** Inserts or updates one row, counting what happened; `where` names the row's key columns. */
  private upsert(kind: keyof ImportFile, table: string, where: Row, values: Row): void {
    const keys = Object.keys(where);
    const cond = keys.map((k) => `${k} = ?`).join(" AND ");
    const cols = Object.keys(values);
    const existing = this.db
      .prepare(`SELECT ${[...keys, ...cols].join(", ")} FROM ${table} WHERE ${cond}`)
      .get(...keys.map((k) => where[k])) as Row | undefined;
    if (!existing) {
      const all = { ...where, ...values };
      const names = Object.keys(all);
      this.db.prepare(`INSERT INTO ${table} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`).run(
        ...names.map((n) => all[n]),
      );
      this.summary[kind].created++;
      return;
    }
    const changed = cols.filter((c) => existing[c] !== values[c]);
    if (changed.length === 0) {
      this.summary[kind].unchanged++;
      return;
    }
    this.db
      .prepare(`UPDATE ${table} SET ${changed.map((c) => `${c} = ?`).join(", ")} WHERE ${cond}`)
      .run(...changed.map((c) => values[c]), ...keys.map((k) => where[k]));
    this.summary[kind].updated++;
  }

  /** Makes the rows under `where` exactly `wanted`; true when anything changed. */
  private replaceSet(table: string, where: Row, column: string, wanted: number[]): boolean {
    const keys = Object.keys(where);
    const cond = keys.map((k) => `${k} = ?`).join(" AND ");
    const have = new Set(
      (this.db.prepare(`SELECT ${column} AS v FROM ${table} WHERE ${cond}`).all(...keys.map((k) => where[k])) as { v: number }[]).map(
        (r) => r.v,
      ),
    );
    const want = new Set(wanted);
    let changed = false;
    for (const v of have) {
      if (want.has(v)) continue;
      this.db.prepare(`DELETE FROM ${table} WHERE ${cond} AND ${column} = ?`).run(...keys.map((k) => where[k]), v);
      changed = true;
    }
    for (const v of want) {
      if (have.has(v)) continue;
      const names = [...keys, column];
      this.db.prepare(`INSERT INTO ${table} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`).run(
        ...keys.map((k) => where[k]),
        v,
      );
      changed = true;
    }
    return changed;
  }

  private tallySet(kind: keyof ImportFile, existed: boolean, changed: boolean): void {
    this.summary[kind][!existed ? "created" : changed ? "updated" : "unchanged"]++;
  }

  run(d: ImportFile): void {
    const p = this.problems;
    d.organizations?.forEach((o) => this.upsert("organizations", "organizations", { slug: o.slug }, { name: o.name }));

    d.projects?.forEach((pr, i) => {
      const org = this.org(pr.organization);
      if (org === undefined) return p.add(["projects", i, "organization"], `no organization ${JSON.stringify(pr.organization)}`);
      const existing = this.project(pr.slug);
      if (existing && existing.org !== org) {
        return p.add(["projects", i, "organization"], `project ${pr.slug} already belongs to another organization`);
      }
      this.upsert("projects", "projects", { slug: pr.slug }, { organization_id: org, name: pr.name ?? pr.slug });
    });

    d.users?.forEach((u) =>
      this.upsert("users", "users", { email: u.email }, { name: u.name ?? null, verified: u.verified ? 1 : 0 }),
    );

    d.members?.forEach((m, i) => {
      const user = this.user(m.user);
      const org = this.org(m.organization);
      if (user === undefined) p.add(["members", i, "user"], `no user ${JSON.stringify(m.user)}`);
      if (org === undefined) p.add(["members", i, "organization"], `no organization ${JSON.stringify(m.organization)}`);
      if (user === undefined || org === undefined) return;
      const projects: number[] = [];
      m.projects?.forEach((slug, j) => {
        const pr = this.project(slug);
        if (!pr) p.add(["members", i, "projects", j], `no project ${JSON.stringify(slug)}`);
        else if (pr.org !== org) p.add(["members", i, "projects", j], `project ${slug} is not in organization ${m.organization}`);
        else projects.push(pr.id);
      });
      const existed = this.db.prepare("SELECT 1 FROM members WHERE user_id = ? AND organization_id = ?").get(user, org) !== undefined;
      if (!existed) this.db.prepare("INSERT INTO members (user_id, organization_id) VALUES (?, ?)").run(user, org);
      // The member's projects within this organization become exactly the listed ones.
      const inOrg = this.db
        .prepare("SELECT mp.project_id AS id FROM member_projects mp JOIN projects p ON p.id = mp.project_id WHERE mp.user_id = ? AND p.organization_id = ?")
        .all(user, org) as { id: number }[];
      const want = new Set(projects);
      let changed = false;
      for (const r of inOrg) {
        if (want.has(r.id)) continue;
        this.db.prepare("DELETE FROM member_projects WHERE user_id = ? AND project_id = ?").run(user, r.id);
        changed = true;
      }
      const have = new Set(inOrg.map((r) => r.id));
      for (const id of want) {
        if (have.has(id)) continue;
        this.db.prepare("INSERT INTO member_projects (user_id, project_id) VALUES (?, ?)").run(user, id);
        changed = true;
      }
      this.tallySet("members", existed, changed);
    });

    d.integrations?.forEach((it, i) => {
      const existingSecret = this.db.prepare("SELECT provider, webhook_secret AS s FROM integrations WHERE external_id = ?").get(it.externalId) as
        | { provider: string; s: string }
        | undefined;
      if (existingSecret && existingSecret.provider !== it.provider) {
        return p.add(["integrations", i, "provider"], `integration ${it.externalId} is already a ${existingSecret.provider} integration`);
      }
      const orgs: number[] = [];
      it.organizations?.forEach((slug, j) => {
        const org = this.org(slug);
        if (org === undefined) p.add(["integrations", i, "organizations", j], `no organization ${JSON.stringify(slug)}`);
        else orgs.push(org);
      });
      this.upsert(
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
        const id = this.integration(it.externalId)!;
        const changed = this.replaceSet("integration_organizations", { integration_id: id }, "organization_id", orgs);
        if (changed && existingSecret) this.promote("integrations");
      }
    });

    d.sync?.forEach((s, i) => {
      const org = this.org(s.organization);
      const integ = this.integration(s.integration);
      if (org === undefined) p.add(["sync", i, "organization"], `no organization ${JSON.stringify(s.organization)}`);
      if (integ === undefined) p.add(["sync", i, "integration"], `no integration ${JSON.stringify(s.integration)}`);
      if (org === undefined || integ === undefined) return;
      const belongs = this.db.prepare("SELECT 1 FROM integration_organizations WHERE integration_id = ? AND organization_id = ?").get(integ, org);
      if (!belongs) return p.add(["sync", i], `integration ${s.integration} does not belong to organization ${s.organization}`);
      this.upsert(
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
    });

    d.statusMappings?.forEach((m, i) => {
      const integ = this.integration(m.integration);
      if (integ === undefined) return p.add(["statusMappings", i, "integration"], `no integration ${JSON.stringify(m.integration)}`);
      const list = (x: string | string[]) => JSON.stringify(Array.isArray(x) ? x : [x]);
      this.upsert(
        "statusMappings",
        "status_mappings",
        { integration_id: integ, external_project: m.externalProject },
        { resolved: list(m.resolvedStatus), unresolved: list(m.unresolvedStatus) },
      );
    });

    d.issues?.forEach((is, i) => {
      const pr = this.project(is.project);
      if (!pr) p.add(["issues", i, "project"], `no project ${JSON.stringify(is.project)}`);
      let assignee: number | null | undefined;
      if (is.assignee) {
        assignee = this.user(is.assignee);
        if (assignee === undefined) p.add(["issues", i, "assignee"], `no user ${JSON.stringify(is.assignee)}`);
      } else if (is.assignee === null) assignee = null;
      if (!pr || (is.assignee && assignee === undefined)) return;
      this.upsert("issues", "issues", { key: is.id }, {
        project_id: pr.id,
        title: is.title,
        ...(is.status ? { status: is.status } : {}),
        ...(assignee !== undefined ? { assignee_id: assignee } : {}),
      });
    });

    d.links?.forEach((l, i) => {
      const issue = this.issueId(l.issue);
      const integ = this.integration(l.integration);
      if (issue === undefined) p.add(["links", i, "issue"], `no issue ${JSON.stringify(l.issue)}`);
      if (integ === undefined) p.add(["links", i, "integration"], `no integration ${JSON.stringify(l.integration)}`);
      if (issue === undefined || integ === undefined) return;
      const provider = (this.db.prepare("SELECT provider FROM integrations WHERE id = ?").get(integ) as { provider: string }).provider;
      const key = this.normalizeKey(provider, l.externalKey);
      if ("problem" in key) return p.add(["links", i, "externalKey"], key.problem);
      const r = this.db.prepare("INSERT OR IGNORE INTO links (issue_id, integration_id, external_key) VALUES (?, ?, ?)").run(issue, integ, key.key);
      this.summary.links[r.changes ? "created" : "unchanged"]++;
    });
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
