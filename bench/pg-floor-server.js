// The raw `pg` floors for serve on PostgreSQL, run as a child process (fork) so the load generator
// does not share its event loop. Tells the parent its URL, stops when told to.
//
// "insert" (the default): a node:http server that reads each body, parses it and inserts it as
// one row with a pg.Pool of serve's default size, answering 200 once the INSERT's COMMIT has
// returned (one autocommitted statement: its COMMIT is its own, on the server's disk before it
// returns, synchronous_commit on as the store asks). No verification, no sync rules, no delivery
// log, no order kept per issue: the least a receiver that answers once PostgreSQL has the
// delivery can do on the machine.
//
// "statements": on a database holding hooksync's schema and the bench dataset, the statements
// serve runs for an applied Azure DevOps state change, written here by hand with `pg` and named
// prepared statements, in one transaction per request: BEGIN, the integration (its secret
// compared), the issue's advisory lock, the pending check, the delivery row, the sync settings,
// the links with their revisions, the status mapping, the issue's status, the activity row, the
// revision kept, the outbox read, the delivery's outcome, COMMIT. No hooksync code: what is left
// between it and serve is what hooksync's own code costs.
//   fork("bench/pg-floor-server.js", [url, "insert" | "statements"])
import pg from "pg";
import { createServer } from "node:http";
import { join } from "node:path";
import { answerOk, onBody } from "./load.js";
import { DURABLE } from "./pg.js";

const root = join(import.meta.dirname, "..");
// serve's pool size (a build without it: the size it had).
const { DEFAULT_POOL_SIZE = 10 } = await import(join(root, "dist", "store", "pg-backend.js"));

const pool = new pg.Pool({ connectionString: process.argv[2], max: DEFAULT_POOL_SIZE, options: DURABLE });
pool.on("error", () => {});
// Made before a second floor server starts on the same database: the parent starts them in turn.
const mode = process.argv[3] ?? "insert";
if (mode === "insert") await pool.query("CREATE TABLE IF NOT EXISTS bodies (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL)");
let failed = 0;
const insertOne = (body) => pool.query("INSERT INTO bodies (body) VALUES ($1)", [body]);

/** Named statements: parsed once per connection, as the store's are. */
const q = (client, name, text, values) => client.query({ name, text, values });
// Ids above anything the store or another floor server makes: this process's start, in microseconds, counting up.
let nextId = Date.now() * 1000 + (process.pid % 1000) * 1e12;
const at = () => new Date().toISOString();

async function statementsOf(body, secret) {
  const p = JSON.parse(body.toString("utf8"));
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const integration = (await q(client, "integration", "SELECT id, webhook_secret FROM integrations WHERE external_id = $1", [p.resourceContainers.collection.id])).rows[0];
    if (!integration || integration.webhook_secret !== secret) throw new Error("not authenticated");
    const key = String(p.resource.workItemId);
    await q(client, "lock", "SELECT pg_advisory_xact_lock(CAST($1 AS INTEGER), hashtext($2))", [integration.id, `vsts:${key}`]);
    await q(client, "pending", "SELECT id FROM deliveries WHERE outcome = 'pending' AND integration_id = $1 AND external_key = $2 ORDER BY id LIMIT 1", [integration.id, key]);
    const delivery = nextId++;
    const identity = `${p.subscriptionId}:${p.notificationId}`;
    await q(
      client,
      "delivery",
      `INSERT INTO deliveries (id, received_at, source, route, provider, integration_id, identity, external_key, headers, verdict, outcome, changes, claim)
       VALUES ($1, $2, 'serve', '/hooks/vsts', 'vsts', $3, $4, $5, '{}', NULL, 'rejected', '[]', $4) ON CONFLICT DO NOTHING`,
      [delivery, at(), integration.id, identity, key],
    );
    await q(
      client,
      "settings",
      `SELECT o.id, o.slug, COALESCE(s.inbound_assignee, 0) AS a, COALESCE(s.inbound_status, 0) AS s FROM integration_organizations io
       JOIN organizations o ON o.id = io.organization_id
       LEFT JOIN sync_settings s ON s.organization_id = io.organization_id AND s.integration_id = io.integration_id WHERE io.integration_id = $1`,
      [integration.id],
    );
    const links = (
      await q(
        client,
        "links",
        `SELECT i.id, i.key, p.organization_id, i.status, i.assignee_id, u.email, ra.revision AS ra, rs.revision AS rs
         FROM links l JOIN issues i ON i.id = l.issue_id JOIN projects p ON p.id = i.project_id LEFT JOIN users u ON u.id = i.assignee_id
         LEFT JOIN revisions ra ON ra.integration_id = l.integration_id AND ra.external_key = l.external_key AND ra.field = 'assignee'
         LEFT JOIN revisions rs ON rs.integration_id = l.integration_id AND rs.external_key = l.external_key AND rs.field = 'status'
         WHERE l.integration_id = $1 AND l.external_key = $2 ORDER BY i.key`,
        [integration.id, key],
      )
    ).rows;
    const state = p.resource.fields["System.State"].newValue;
    const mapping = (await q(client, "mapping", "SELECT resolved, unresolved FROM status_mappings WHERE integration_id = $1 AND external_project = $2", [integration.id, p.resourceContainers.project.id])).rows[0];
    const target = JSON.parse(mapping.resolved).includes(state) ? "resolved" : "unresolved";
    const changes = [];
    for (const issue of links) {
      if (issue.status === target) continue;
      await q(client, "status", "UPDATE issues SET status = $1 WHERE id = $2", [target, issue.id]);
      await q(client, "activity", "INSERT INTO activity (id, issue_id, kind, from_value, to_value, source, delivery_id, at) VALUES ($1, $2, $3, $4, $3, 'serve', $5, $6)", [nextId++, issue.id, target, issue.status, delivery, at()]);
      changes.push({ issue: issue.key, field: "status", from: issue.status, to: target });
      await q(
        client,
        "outbox",
        `SELECT (SELECT COUNT(*) FROM outbox WHERE issue_id = $1 AND kind = 'status' AND state != 'done') AS unsent, l.integration_id
         FROM links l JOIN sync_settings s ON s.integration_id = l.integration_id WHERE l.issue_id = $1 AND l.integration_id <> $2 AND s.outbound_status = 1`,
        [issue.id, integration.id],
      );
    }
    await q(
      client,
      "revision",
      `INSERT INTO revisions (integration_id, external_key, field, revision) VALUES ($1, $2, 'status', $3)
       ON CONFLICT (integration_id, external_key, field) DO UPDATE SET revision = excluded.revision WHERE excluded.revision > revisions.revision`,
      [integration.id, key, p.resource.rev],
    );
    await q(client, "finish", "UPDATE deliveries SET integration_id = $1, event = $2, verdict = 200, outcome = $3, changes = $4, body = $5 WHERE id = $6", [
      integration.id,
      p.eventType,
      changes.length ? "applied" : "ignored",
      JSON.stringify(changes),
      body,
      delivery,
    ]);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  } finally {
    client.release();
  }
}

const server = createServer((req, res) =>
  onBody(req, (chunks) => {
    const body = Buffer.concat(chunks);
    (mode === "insert" ? (JSON.parse(body.toString("utf8")), insertOne(body)) : statementsOf(body, req.headers["shared-secret"])).then(
      () => answerOk(res),
      () => {
        failed++;
        res.writeHead(500).end();
      },
    );
  }),
);
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
process.send({ url: `http://127.0.0.1:${server.address().port}`, poolSize: DEFAULT_POOL_SIZE });
process.on("message", async () => {
  await new Promise((resolve) => server.close(resolve));
  await pool.end();
  process.send({ failed }, () => process.exit(0));
});
