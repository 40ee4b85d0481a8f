// The floor for replay: the same SQL the engine runs, executed directly with better-sqlite3 in
// one process, with JSON.parse and hand-picked fields but no CLI, no schema, no pipeline.
import Database from "better-sqlite3";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

export async function floorReplay(dbPath, ndjsonPath) {
  const db = new Database(dbPath);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  const integration = db.prepare("SELECT id FROM integrations WHERE external_id = ?");
  const settings = db.prepare(`SELECT o.id AS organizationId, COALESCE(s.inbound_assignee,0) AS a, COALESCE(s.inbound_status,0) AS s
    FROM integration_organizations io JOIN organizations o ON o.id = io.organization_id
    LEFT JOIN sync_settings s ON s.organization_id = io.organization_id AND s.integration_id = io.integration_id WHERE io.integration_id = ?`);
  const links = db.prepare(`SELECT i.id AS issueId, i.key, p.id AS projectId, p.organization_id AS organizationId, i.status, i.assignee_id AS assigneeId, u.email AS assigneeEmail
    FROM links l JOIN issues i ON i.id = l.issue_id JOIN projects p ON p.id = i.project_id LEFT JOIN users u ON u.id = i.assignee_id
    WHERE l.integration_id = ? AND l.external_key = ? ORDER BY i.key`);
  const mapping = db.prepare("SELECT resolved, unresolved FROM status_mappings WHERE integration_id = ? AND external_project = ?");
  const user = db.prepare("SELECT id, email FROM users WHERE email = ? AND verified = 1");
  const member = db.prepare("SELECT 1 FROM members m JOIN member_projects mp ON mp.user_id = m.user_id WHERE m.user_id = ? AND m.organization_id = ? AND mp.project_id = ?");
  const setAssignee = db.prepare("UPDATE issues SET assignee_id = ? WHERE id = ?");
  const setStatus = db.prepare("UPDATE issues SET status = ? WHERE id = ?");
  const activity = db.prepare("INSERT INTO activity (issue_id, kind, from_value, to_value, source, delivery_id, at) VALUES (?, ?, ?, ?, 'replay', NULL, ?)");

  const apply = db.transaction((p) => {
    const vsts = p.eventType !== undefined;
    const integ = integration.get(vsts ? p.resourceContainers.collection.id : "jira-bench").id;
    settings.all(integ);
    const key = vsts ? String(p.resource.workItemId) : p.issue.key;
    const at = new Date().toISOString();
    const issues = links.all(integ, key);
    const fields = vsts ? p.resource.fields : null;
    const assignee = vsts ? fields["System.AssignedTo"] : p.changelog.items[0].field === "assignee";
    if (assignee) {
      const email = vsts ? /<([^>]+)>/.exec(assignee.newValue)[1] : p.issue.fields.assignee.emailAddress;
      const u = user.get(email);
      for (const i of issues) {
        if (!u || !member.get(u.id, i.organizationId, i.projectId) || i.assigneeId === u.id) continue;
        setAssignee.run(u.id, i.issueId);
        activity.run(i.issueId, "assigned", i.assigneeEmail, u.email, at);
      }
    } else {
      const to = vsts ? fields["System.State"].newValue : p.changelog.items[0].to;
      const m = mapping.get(integ, vsts ? p.resourceContainers.project.id : p.issue.fields.project.id);
      const target = JSON.parse(m.resolved).includes(to) ? "resolved" : JSON.parse(m.unresolved).includes(to) ? "unresolved" : null;
      if (!target) return;
      for (const i of issues) {
        if (i.status === target) continue;
        setStatus.run(target, i.issueId);
        activity.run(i.issueId, target, i.status, target, at);
      }
    }
  });

  let n = 0;
  const started = performance.now();
  for await (const line of createInterface({ input: createReadStream(ndjsonPath), crlfDelay: Infinity })) {
    if (!line) continue;
    apply.immediate(JSON.parse(line));
    n++;
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return { payloads: n, seconds };
}
