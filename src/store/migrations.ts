/**
 * Numbered, forward-only migrations. The applied version lives in PRAGMA user_version and each
 * migration runs in its own immediate transaction; schema_migrations keeps a readable history.
 * Never edit a migration that has shipped: add the next one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * The migration rebuilds a table that others reference (SQLite cannot change a CHECK in
   * place): foreign keys are off while it runs and checked before it commits.
   */
  rebuilds?: boolean;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at TEXT NOT NULL
);

CREATE TABLE organizations (
  id   INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL
);

-- Project slugs are unique across the store: issue ids (BACKEND-1) and the import file name a
-- project by slug alone.
CREATE TABLE projects (
  id              INTEGER PRIMARY KEY,
  organization_id INTEGER NOT NULL REFERENCES organizations(id),
  slug            TEXT NOT NULL UNIQUE,
  name            TEXT NOT NULL
);

CREATE TABLE users (
  id       INTEGER PRIMARY KEY,
  email    TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name     TEXT,
  verified INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1))
);

CREATE TABLE members (
  user_id         INTEGER NOT NULL REFERENCES users(id),
  organization_id INTEGER NOT NULL REFERENCES organizations(id),
  PRIMARY KEY (user_id, organization_id)
) WITHOUT ROWID;

CREATE TABLE member_projects (
  user_id    INTEGER NOT NULL REFERENCES users(id),
  project_id INTEGER NOT NULL REFERENCES projects(id),
  PRIMARY KEY (user_id, project_id)
) WITHOUT ROWID;

CREATE TABLE integrations (
  id             INTEGER PRIMARY KEY,
  provider       TEXT NOT NULL CHECK (provider IN ('vsts', 'jira')),
  external_id    TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL,
  base_url       TEXT,
  webhook_secret TEXT NOT NULL
);

CREATE TABLE integration_organizations (
  integration_id  INTEGER NOT NULL REFERENCES integrations(id),
  organization_id INTEGER NOT NULL REFERENCES organizations(id),
  PRIMARY KEY (integration_id, organization_id)
) WITHOUT ROWID;

CREATE TABLE sync_settings (
  organization_id   INTEGER NOT NULL REFERENCES organizations(id),
  integration_id    INTEGER NOT NULL REFERENCES integrations(id),
  inbound_assignee  INTEGER NOT NULL DEFAULT 0,
  inbound_status    INTEGER NOT NULL DEFAULT 0,
  outbound_assignee INTEGER NOT NULL DEFAULT 0,
  outbound_status   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (organization_id, integration_id)
) WITHOUT ROWID;

-- resolved/unresolved hold JSON arrays of state names (VSTS) or status ids (Jira).
CREATE TABLE status_mappings (
  integration_id   INTEGER NOT NULL REFERENCES integrations(id),
  external_project TEXT NOT NULL,
  resolved         TEXT NOT NULL,
  unresolved       TEXT NOT NULL,
  PRIMARY KEY (integration_id, external_project)
) WITHOUT ROWID;

CREATE TABLE issues (
  id          INTEGER PRIMARY KEY,
  key         TEXT NOT NULL UNIQUE,
  project_id  INTEGER NOT NULL REFERENCES projects(id),
  title       TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'unresolved' CHECK (status IN ('resolved', 'unresolved')),
  assignee_id INTEGER REFERENCES users(id)
);
CREATE INDEX issues_project ON issues(project_id);

CREATE TABLE links (
  issue_id       INTEGER NOT NULL REFERENCES issues(id),
  integration_id INTEGER NOT NULL REFERENCES integrations(id),
  external_key   TEXT NOT NULL,
  PRIMARY KEY (integration_id, external_key, issue_id)
) WITHOUT ROWID;
CREATE INDEX links_issue ON links(issue_id);

CREATE TABLE deliveries (
  id             INTEGER PRIMARY KEY,
  received_at    TEXT NOT NULL,
  source         TEXT NOT NULL,
  route          TEXT,
  provider       TEXT,
  integration_id INTEGER REFERENCES integrations(id),
  identity       TEXT,
  event          TEXT,
  headers        TEXT NOT NULL DEFAULT '{}',
  body           BLOB,
  verdict        INTEGER,
  outcome        TEXT NOT NULL CHECK (outcome IN ('applied', 'ignored', 'rejected')),
  reason         TEXT,
  changes        TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX deliveries_identity ON deliveries(provider, identity) WHERE identity IS NOT NULL;

CREATE TABLE activity (
  id          INTEGER PRIMARY KEY,
  issue_id    INTEGER NOT NULL REFERENCES issues(id),
  kind        TEXT NOT NULL CHECK (kind IN ('assigned', 'unassigned', 'resolved', 'unresolved')),
  from_value  TEXT,
  to_value    TEXT,
  source      TEXT NOT NULL CHECK (source IN ('serve', 'replay', 'simulate', 'cli')),
  delivery_id INTEGER REFERENCES deliveries(id),
  at          TEXT NOT NULL
);
CREATE INDEX activity_issue ON activity(issue_id);
`,
  },
  {
    version: 2,
    name: "tracker subscriptions and the Jira user cache",
    sql: `
-- What hooksync created on the trackers, so subscriptions/unsubscribe know which are ours.
-- secret_sha256: the webhook secret a VSTS subscription was last given; Azure DevOps masks
-- httpHeaders when read back, so this is how a rotated secret is noticed.
CREATE TABLE subscriptions (
  integration_id INTEGER NOT NULL REFERENCES integrations(id),
  remote_id      TEXT NOT NULL,
  event_type     TEXT NOT NULL,
  url            TEXT NOT NULL,
  secret_sha256  TEXT,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  PRIMARY KEY (integration_id, remote_id)
) WITHOUT ROWID;

-- Rule 3.5: emails of Jira users whose webhooks hide them. email NULL = Jira had none to give.
CREATE TABLE jira_users (
  integration_id INTEGER NOT NULL REFERENCES integrations(id),
  user_key       TEXT NOT NULL,
  email          TEXT,
  fetched_at     TEXT NOT NULL,
  PRIMARY KEY (integration_id, user_key)
) WITHOUT ROWID;
`,
  },
  {
    version: 3,
    name: "outbound outbox and Discord notifications",
    sql: `
-- Rule 7.3: a push or notification is recorded here in the transaction that made the change, then
-- sent, then marked. 'failed' rows stay in the queue ('hooksync outbound retry'); only 'done' is
-- finished. payload is JSON: what to push ({"to","from","via"}), read again when the row is sent.
CREATE TABLE outbox (
  id             INTEGER PRIMARY KEY,
  kind           TEXT NOT NULL CHECK (kind IN ('assignee', 'status', 'discord')),
  issue_id       INTEGER NOT NULL REFERENCES issues(id),
  integration_id INTEGER REFERENCES integrations(id),
  external_key   TEXT,
  payload        TEXT NOT NULL,
  state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
  attempts       INTEGER NOT NULL DEFAULT 0,
  last_error     TEXT,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  CHECK ((kind = 'discord') = (integration_id IS NULL AND external_key IS NULL))
);
CREATE INDEX outbox_unsent ON outbox(id) WHERE state != 'done';
CREATE INDEX outbox_issue ON outbox(issue_id, kind);

-- The store's notification channel. Only the webhook id is here: its token (the secret half of
-- the URL) lives with the credentials, mode 0600.
CREATE TABLE notify_channels (
  kind       TEXT PRIMARY KEY CHECK (kind = 'discord'),
  webhook_id TEXT NOT NULL,
  created_at TEXT NOT NULL
) WITHOUT ROWID;

-- Rule 8.1: the message a later change to the issue edits. A message is only editable through the
-- webhook that posted it, so a new webhook posts anew.
CREATE TABLE discord_messages (
  issue_id   INTEGER PRIMARY KEY REFERENCES issues(id),
  webhook_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`,
  },
  {
    version: 4,
    name: "an always-on receiver: pending deliveries, retention, revisions, id leases, outbox schedule; Jira webhook verification, fetched status maps",
    rebuilds: true,
    sql: `
-- deliveries, rebuilt: 'pending' (verified, not judged yet: its Jira user lookup failed) joins the
-- outcomes; external_key lets a pending delivery hold back later ones for the same external issue;
-- a refused request keeps only its first 4 KiB (body_size and body_sha256 say what it was);
-- pruned_at marks a row kept only because activity points at it (its body and headers are gone).
CREATE TABLE deliveries_v4 (
  id             INTEGER PRIMARY KEY,
  received_at    TEXT NOT NULL,
  source         TEXT NOT NULL,
  route          TEXT,
  provider       TEXT,
  integration_id INTEGER REFERENCES integrations(id),
  identity       TEXT,
  external_key   TEXT,
  event          TEXT,
  headers        TEXT NOT NULL DEFAULT '{}',
  body           BLOB,
  body_size      INTEGER,
  body_sha256    TEXT,
  verdict        INTEGER,
  outcome        TEXT NOT NULL CHECK (outcome IN ('applied', 'ignored', 'rejected', 'pending')),
  reason         TEXT,
  changes        TEXT NOT NULL DEFAULT '[]',
  attempts       INTEGER NOT NULL DEFAULT 0,
  pruned_at      TEXT
);
INSERT INTO deliveries_v4 (id, received_at, source, route, provider, integration_id, identity, event, headers, body, body_size, verdict, outcome, reason, changes)
  SELECT id, received_at, source, route, provider, integration_id, identity, event, headers, body, length(body), verdict, outcome, reason, changes
  FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v4 RENAME TO deliveries;
CREATE INDEX deliveries_identity ON deliveries(provider, identity) WHERE identity IS NOT NULL;
CREATE INDEX deliveries_pending ON deliveries(integration_id, external_key) WHERE outcome = 'pending';

-- Rule 10.1: per linked external issue and field, the revision last applied (Azure DevOps rev;
-- Jira milliseconds since the epoch).
CREATE TABLE revisions (
  integration_id INTEGER NOT NULL REFERENCES integrations(id),
  external_key   TEXT NOT NULL,
  field          TEXT NOT NULL CHECK (field IN ('assignee', 'status')),
  revision       INTEGER NOT NULL,
  PRIMARY KEY (integration_id, external_key, field)
) WITHOUT ROWID;

-- Rule 9.1 with many writers: each process leases a worker number for its snowflake ids and
-- renews it; a lease past expires_at (ms since the epoch) is free to take.
CREATE TABLE id_leases (
  worker     INTEGER PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

-- The outbox's schedule: a row is sent at next_attempt_at (ms since the epoch) or later, by the
-- one sender whose claim (claimed_by until claimed_until) holds.
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
-- When the row's attempts began failing (ms since the epoch): it is given up ('failed') three days on.
ALTER TABLE outbox ADD COLUMN failing_since INTEGER;
-- One push at a time per external issue: a claim looks for older unsent rows of the same target.
CREATE INDEX outbox_target ON outbox(integration_id, external_key, id) WHERE state != 'done';

-- Retention asks, for each delivery it prunes, whether activity points at it, and deleting a
-- delivery makes SQLite look for activity rows referencing it: without this, each is a full scan.
CREATE INDEX activity_delivery ON activity(delivery_id) WHERE delivery_id IS NOT NULL;

-- How a Jira integration's deliveries prove their sender: 'jwt' (Jira 9 and earlier: a JWT in the
-- URL) or 'signature' (Jira 10: X-Hub-Signature, an HMAC of the body); until both_until (ms since
-- the epoch) both are taken, so a live integration moves from one to the other losing nothing.
-- No row: 'jwt'.
CREATE TABLE jira_webhook_auth (
  integration_id INTEGER PRIMARY KEY REFERENCES integrations(id),
  mode           TEXT NOT NULL CHECK (mode IN ('jwt', 'signature')),
  both_until     INTEGER
);

-- The mapping as 'status-map fetch' last wrote it (JSON {resolved, unresolved}); NULL, or not what
-- the row holds now: the user wrote the mapping, and fetch leaves it alone unless --replace.
ALTER TABLE status_mappings ADD COLUMN fetched TEXT;
`,
  },
  {
    version: 5,
    name: "redelivery claims",
    sql: redeliveryClaims("TEXT"),
  },
];

/** Migration 5, on both backends, with the text type of each. */
export function redeliveryClaims(text: string): string {
  return `
-- Rule 6.2 by a unique index: an applied or pending delivery claims its identity in claim, and one
-- row of an integration holds it; the first of any such rows already there takes it.
ALTER TABLE deliveries ADD COLUMN claim ${text};
UPDATE deliveries SET claim = identity WHERE id IN (
  SELECT MIN(id) FROM deliveries
  WHERE identity IS NOT NULL AND provider IS NOT NULL AND integration_id IS NOT NULL AND outcome IN ('applied', 'pending')
  GROUP BY provider, integration_id, identity);
CREATE UNIQUE INDEX deliveries_claim ON deliveries(provider, integration_id, claim) WHERE claim IS NOT NULL;
-- The redelivery check read it; the claim's index answers now.
DROP INDEX deliveries_identity;
`;
}

/** The schema version this hooksync brings a store to, on either backend (pg-migrations.ts follows this numbering). */
export const latestVersion = migrations[migrations.length - 1]!.version;
