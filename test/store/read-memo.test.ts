import { describe, expect, it } from "vitest";
import { openStore } from "../../src/store/store.js";

function store() {
  const s = openStore(":memory:");
  s.db.exec(`
    INSERT INTO organizations (id, slug, name) VALUES (1, 'acme', 'Acme');
    INSERT INTO projects (id, organization_id, slug, name) VALUES (1, 1, 'backend', 'Backend');
    INSERT INTO integrations (id, provider, external_id, name, webhook_secret) VALUES (1, 'vsts', 'coll', 'c', 'old secret');
    INSERT INTO integration_organizations (integration_id, organization_id) VALUES (1, 1);
    INSERT INTO sync_settings (organization_id, integration_id, inbound_assignee) VALUES (1, 1, 1);
    INSERT INTO users (id, email, verified) VALUES (1, 'jane@example.com', 1);
    INSERT INTO members (user_id, organization_id) VALUES (1, 1);
    INSERT INTO member_projects (user_id, project_id) VALUES (1, 1);`);
  return s;
}

const change = `
  UPDATE integrations SET webhook_secret = 'new secret';
  UPDATE sync_settings SET inbound_assignee = 0;
  UPDATE users SET verified = 0;
  DELETE FROM member_projects;`;

const reads = (s: ReturnType<typeof store>) => ({
  secret: s.integrations.byExternalId("coll")?.webhookSecret,
  only: s.integrations.onlyOf("vsts")?.externalId,
  assignee: s.sync.syncSettings(1)[0]?.inboundAssignee,
  user: s.sync.verifiedUser("jane@example.com")?.id,
  member: s.sync.isProjectMember(1, 1, 1),
});

describe("configuration reads while applying payloads", () => {
  it("are read once per transaction and kept until it ends", () => {
    const s = store();
    const during = s.inTransaction(() =>
      s.applying(() => {
        const first = reads(s);
        s.db.exec(change);
        return [first, reads(s)];
      }),
    );
    const kept = { secret: "old secret", only: "coll", assignee: true, user: 1, member: true };
    expect(during).toEqual([kept, kept]);
    // The next transaction reads the store as it is.
    expect(s.inTransaction(() => s.applying(() => reads(s)))).toEqual({ secret: "new secret", only: "coll", assignee: false, user: undefined, member: false });
  });

  it("are not kept outside applying(), even inside a transaction", () => {
    const s = store();
    const seen = s.inTransaction(() => {
      reads(s);
      s.db.exec(change);
      return reads(s);
    });
    expect(seen).toMatchObject({ secret: "new secret", assignee: false, user: undefined, member: false });
  });

  it("refuse to be kept outside a transaction, where another connection may change them at any time", () => {
    const s = store();
    expect(() => s.applying(() => reads(s))).toThrow(/needs a transaction/);
  });
});
