import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/store.js";
import { startAzureDevOps } from "../fakes/azure-devops.js";
import { installWorkItems } from "../fakes/azure-devops-workitems.js";
import { run, runBin, tempDir } from "../helpers.js";
import { backends, freshDatabase, pgUrl } from "../pg.js";
import { USERS, VSTS_ID, VSTS_PROJECT, VSTS_SECRET } from "../world.js";

const PUSHES = 1000;
const WORK_ITEMS = PUSHES / 2;
const SENDERS = 2;
const dir = tempDir();
afterAll(dir.cleanup);
const pgDatabase = pgUrl ? await freshDatabase("outbound_senders") : null;

/** Every work item is linked to two issues: two pushes queued for it, the older (jane) to be sent before the newer (bob). */
function dataset(baseUrl: string) {
  const users = ["jane.doe@example.com", "bob.smith@example.com"];
  return {
    organizations: [{ slug: "o", name: "O" }],
    projects: [{ slug: "p", organization: "o" }],
    users: users.map((email) => ({ email, verified: true })),
    members: users.map((user) => ({ user, organization: "o", projects: ["p"] })),
    integrations: [{ provider: "vsts", externalId: VSTS_ID, name: "f", baseUrl, organizations: ["o"], webhookSecret: VSTS_SECRET }],
    sync: [{ organization: "o", integration: VSTS_ID, inboundAssignee: true, inboundStatus: true, outboundAssignee: true }],
    issues: Array.from({ length: PUSHES }, (_, i) => ({ id: `P-${i + 1}`, project: "p", title: `t${i}` })),
    links: Array.from({ length: PUSHES }, (_, i) => ({ issue: `P-${i + 1}`, integration: VSTS_ID, externalKey: String(1 + (i % WORK_ITEMS)) })),
  };
}

describe.each(backends)("two 'hooksync outbound send' processes on one %s store", (backend) => {
  it("drain 1,000 queued pushes with no push sent twice, each work item's two in order", async () => {
    const azure = await startAzureDevOps();
    try {
      const workItems = installWorkItems(azure, { project: VSTS_PROJECT, states: ["New"] });
      workItems.put(...Array.from({ length: WORK_ITEMS }, (_, i) => ({ id: i + 1, state: "New" })));
      for (const u of [USERS.jane, USERS.bob]) workItems.identities.set(u.email, u.name);
      const db = backend === "sqlite" ? join(dir.path, "hooksync.db") : pgDatabase!;
      const file = join(dir.path, "import.json");
      writeFileSync(file, JSON.stringify(dataset(azure.url)));
      expect((await run(["init", "--db", db])).code).toBe(0);
      expect((await run(["import", file, "--db", db])).code).toBe(0);

      // Queued as a command-line change would queue them: issue P-n assigned, oldest first.
      const store = await openStore(db);
      const at = new Date().toISOString();
      await store.inTransaction(async (tx) => {
        for (let i = 0; i < PUSHES; i++) {
          await tx.outbox.enqueue([{ issue: `P-${i + 1}`, issueId: (await tx.links.issueId(`P-${i + 1}`))!, field: "assignee", from: null, to: i < WORK_ITEMS ? "jane.doe@example.com" : "bob.smith@example.com" }], { integrationId: null, via: "cli", at });
        }
      });
      const queued = (await store.outbox.list("pending")).map((r) => r.id);
      await store.close();
      expect(queued).toHaveLength(PUSHES);

      const env = { AZURE_DEVOPS_EXT_PAT: azure.state.pat, HOOKSYNC_CONFIG_DIR: join(dir.path, "config") };
      const started = performance.now();
      const runs = await Promise.all(Array.from({ length: SENDERS }, () => runBin(["outbound", "send", "--json", "--db", db], { env })));
      const seconds = (performance.now() - started) / 1000;

      for (const r of runs) {
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
      }
      const sent = runs.map((r) => (JSON.parse(r.stdout) as { id: number; ok: boolean }[]).map((p) => (expect(p.ok).toBe(true), p.id)));
      const all = sent.flat();
      // Each row attempted by exactly one sender, and both senders took part.
      expect(all.sort()).toEqual([...queued].sort());
      expect(new Set(all).size).toBe(PUSHES);
      for (const ids of sent) expect(ids.length).toBeGreaterThan(0);

      // What the tracker saw: one PATCH per push, two per work item, jane's before bob's.
      const patches = new Map<string, string[]>();
      for (const q of azure.requests.filter((q) => q.method === "PATCH")) {
        const id = q.url.pathname.split("/").pop()!;
        patches.set(id, [...(patches.get(id) ?? []), (q.json() as { value: string }[])[0]!.value]);
      }
      const duplicates = [...patches.values()].filter((v) => v.length !== 2).length;
      console.log(`outbound fault (${backend}): ${PUSHES} rows, ${SENDERS} senders (${sent.map((s) => s.length).join(" + ")}), ${seconds.toFixed(2)} s, ${duplicates} work items patched other than twice`);
      expect(patches.size).toBe(WORK_ITEMS);
      expect(duplicates).toBe(0);
      for (const values of patches.values()) expect(values).toEqual(["jane.doe@example.com", "bob.smith@example.com"]);
      for (const w of workItems.items.values()) expect(w.fields["System.AssignedTo"]).toBe("bob.smith@example.com");

      const after = await openStore(db);
      expect((await after.outbox.list()).every((r) => r.state === "done" && r.attempts === 1)).toBe(true);
      await after.close();
    } finally {
      await azure.close();
    }
  }, 120_000);
});
