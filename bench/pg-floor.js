// The floor for replay into PostgreSQL: the reads and writes of the SQLite floor (floor.js), run
// with `pg` directly: one client, the same statements with $n placeholders, JSON.parse and
// hand-picked fields, no CLI, no schema, no pipeline. Its transactions are the CLI's: replay reads
// its input 1 MiB at a time and applies the payloads each read completed in one transaction
// (src/pipeline/replay.ts, process.ts), so this floor does the same, which is what makes the
// ratio compare like with like (on PostgreSQL every COMMIT waits for the server's disk). Inside a
// transaction the CLI reads an integration, its sync settings and a status mapping once (its
// ReadMemo), so this floor does too; the CLI's savepoint per payload and its outbox writes are
// not here: they are part of what the CLI costs.
import pg from "pg";
import { createReadStream } from "node:fs";
import { DURABLE, types } from "./pg.js";

/** The input in the CLI's batches: the complete lines of each 1 MiB read (src/pipeline/input-sources.ts). */
async function* batches(path) {
  let rest = "";
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024, encoding: "utf8" })) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop();
    const batch = lines.filter((l) => l);
    if (batch.length) yield batch;
  }
  if (rest) yield [rest];
}

export async function pgFloorReplay(url, ndjsonPath) {
  const client = new pg.Client({ connectionString: url, types, options: DURABLE });
  await client.connect();
  const q = async (text, params) => (await client.query(text, params)).rows;
  const integration = "SELECT id FROM integrations WHERE external_id = $1";
  const settings = `SELECT o.id AS "organizationId", COALESCE(s.inbound_assignee,0) AS a, COALESCE(s.inbound_status,0) AS s
    FROM integration_organizations io JOIN organizations o ON o.id = io.organization_id
    LEFT JOIN sync_settings s ON s.organization_id = io.organization_id AND s.integration_id = io.integration_id WHERE io.integration_id = $1`;
  const links = `SELECT i.id AS "issueId", i.key, p.id AS "projectId", p.organization_id AS "organizationId", i.status, i.assignee_id AS "assigneeId", u.email AS "assigneeEmail"
    FROM links l JOIN issues i ON i.id = l.issue_id JOIN projects p ON p.id = i.project_id LEFT JOIN users u ON u.id = i.assignee_id
    WHERE l.integration_id = $1 AND l.external_key = $2 ORDER BY i.key`;
  const mapping = "SELECT resolved, unresolved FROM status_mappings WHERE integration_id = $1 AND external_project = $2";
  const user = "SELECT id, email FROM users WHERE email = $1 AND verified = 1";
  const member = "SELECT 1 FROM members m JOIN member_projects mp ON mp.user_id = m.user_id WHERE m.user_id = $1 AND m.organization_id = $2 AND mp.project_id = $3";
  const setAssignee = "UPDATE issues SET assignee_id = $1 WHERE id = $2";
  const setStatus = "UPDATE issues SET status = $1 WHERE id = $2";
  const activity = "INSERT INTO activity (id, issue_id, kind, from_value, to_value, source, delivery_id, at) VALUES ($1, $2, $3, $4, $5, 'replay', NULL, $6)";
  // activity.id has no default on PostgreSQL (the CLI writes snowflakes): ids after the largest.
  let nextId = (await q("SELECT COALESCE(MAX(id), 0) AS n FROM activity"))[0].n + 1;

  /** The configuration reads of one transaction, each made once (the CLI's ReadMemo). */
  let memo;
  const once = async (key, read) => {
    if (!memo.has(key)) memo.set(key, await read());
    return memo.get(key);
  };

  const apply = async (p) => {
    const vsts = p.eventType !== undefined;
    const external = vsts ? p.resourceContainers.collection.id : "jira-bench";
    const integ = (await once(`i:${external}`, () => q(integration, [external])))[0].id;
    await once(`s:${integ}`, () => q(settings, [integ]));
    const key = vsts ? String(p.resource.workItemId) : p.issue.key;
    const at = new Date().toISOString();
    const issues = await q(links, [integ, key]);
    const fields = vsts ? p.resource.fields : null;
    const assignee = vsts ? fields["System.AssignedTo"] : p.changelog.items[0].field === "assignee";
    if (assignee) {
      const email = vsts ? /<([^>]+)>/.exec(assignee.newValue)[1] : p.issue.fields.assignee.emailAddress;
      const [u] = await q(user, [email]);
      for (const i of issues) {
        if (!u || (await q(member, [u.id, i.organizationId, i.projectId])).length === 0 || i.assigneeId === u.id) continue;
        await q(setAssignee, [u.id, i.issueId]);
        await q(activity, [nextId++, i.issueId, "assigned", i.assigneeEmail, u.email, at]);
      }
    } else {
      const to = vsts ? fields["System.State"].newValue : p.changelog.items[0].to;
      const project = vsts ? p.resourceContainers.project.id : p.issue.fields.project.id;
      const [m] = await once(`m:${integ}:${project}`, () => q(mapping, [integ, project]));
      const target = JSON.parse(m.resolved).includes(to) ? "resolved" : JSON.parse(m.unresolved).includes(to) ? "unresolved" : null;
      if (!target) return;
      for (const i of issues) {
        if (i.status === target) continue;
        await q(setStatus, [target, i.issueId]);
        await q(activity, [nextId++, i.issueId, target, i.status, target, at]);
      }
    }
  };

  let n = 0;
  const started = performance.now();
  for await (const batch of batches(ndjsonPath)) {
    memo = new Map();
    await client.query("BEGIN");
    for (const line of batch) await apply(JSON.parse(line));
    await client.query("COMMIT");
    n += batch.length;
  }
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return { payloads: n, seconds };
}
