import { describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";
import { backends, type BackendName, storeTargets } from "../pg.js";

const stores = storeTargets("store_read_memo");

async function store(backend: BackendName) {
  const s = await stores.open(backend);
  await s.sql.exec(`
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

const reads = async (s: Store) => ({
  secret: (await s.integrations.byExternalId("coll"))?.webhookSecret,
  only: (await s.integrations.onlyOf("vsts"))?.externalId,
  assignee: (await s.sync.syncSettings(1))[0]?.inboundAssignee,
  user: (await s.sync.verifiedUser("jane@example.com"))?.id,
  member: (await s.sync.verifiedUser("jane@example.com"))?.projects.has(1) ?? false,
});

describe.each(backends)("configuration reads while applying payloads on %s", (backend) => {
  it("are read once per transaction and kept until it ends", async () => {
    const s = await store(backend);
    const during = await s.inTransaction((tx) =>
      tx.applying(async () => {
        const first = await reads(tx);
        await tx.sql.exec(change);
        return [first, await reads(tx)];
      }),
    );
    const kept = { secret: "old secret", only: "coll", assignee: true, user: 1, member: true };
    expect(during).toEqual([kept, kept]);
    // The next transaction reads the store as it is.
    expect(await s.inTransaction((tx) => tx.applying(() => reads(tx)))).toEqual({ secret: "new secret", only: "coll", assignee: false, user: undefined, member: false });
  });

  it("are not kept outside applying(), even inside a transaction", async () => {
    const s = await store(backend);
    const seen = await s.inTransaction(async (tx) => {
      await reads(tx);
      await tx.sql.exec(change);
      return reads(tx);
    });
    expect(seen).toMatchObject({ secret: "new secret", assignee: false, user: undefined, member: false });
  });

  it("refuse to be kept outside a transaction, where another connection may change them at any time", async () => {
    const s = await store(backend);
    await expect(s.applying(() => reads(s))).rejects.toThrow(/needs a transaction/);
  });
});
