import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { createWriteStream, writeFileSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, run, runBin, tempDir } from "../helpers.js";
import { VSTS_ID, loadFixture } from "../world.js";

const WORK_ITEMS = 1000;
const PAYLOADS = 100_000;
const users = Array.from({ length: 20 }, (_, i) => `u${i}@example.com`);

/** Every work item is linked to two issues, so a half-applied payload would show as a pair that differs. */
function dataset() {
  return {
    organizations: [{ slug: "o", name: "O" }],
    projects: [{ slug: "p", organization: "o" }],
    users: users.map((email) => ({ email, verified: true })),
    members: users.map((user) => ({ user, organization: "o", projects: ["p"] })),
    integrations: [{ provider: "vsts", externalId: VSTS_ID, name: "f", organizations: ["o"] }],
    sync: [{ organization: "o", integration: VSTS_ID, inboundAssignee: true, inboundStatus: true }],
    issues: Array.from({ length: WORK_ITEMS * 2 }, (_, i) => ({ id: `P-${i + 1}`, project: "p", title: `t${i}` })),
    links: Array.from({ length: WORK_ITEMS * 2 }, (_, i) => ({ issue: `P-${i + 1}`, integration: VSTS_ID, externalKey: String(1 + (i % WORK_ITEMS)) })),
  };
}

async function writePayloads(path: string) {
  const p = loadFixture("vsts-workitem-updated.json");
  delete p.message;
  delete p.detailedMessage;
  delete p.resource.revision;
  delete p.resource._links;
  const out = createWriteStream(path);
  for (let n = 0; n < PAYLOADS; n++) {
    p.notificationId = n;
    p.resource.workItemId = 1 + ((n * 7919) % WORK_ITEMS);
    p.resource.fields = { "System.AssignedTo": { newValue: `U <${users[(n * 31 + Math.floor(n / WORK_ITEMS)) % users.length]}>` } };
    if (!out.write(JSON.stringify(p) + "\n")) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

const dir = tempDir();
afterAll(dir.cleanup);

function state(db: string) {
  const conn = new Database(db, { readonly: true });
  try {
    const issues = conn.prepare("SELECT i.key, u.email FROM issues i LEFT JOIN users u ON u.id = i.assignee_id ORDER BY i.id").all() as { key: string; email: string | null }[];
    const counts = conn.prepare("SELECT i.key, COUNT(a.id) AS n FROM issues i LEFT JOIN activity a ON a.issue_id = i.id GROUP BY i.id ORDER BY i.id").all() as { n: number }[];
    return { issues, counts, integrity: conn.pragma("integrity_check", { simple: true }) };
  } finally {
    conn.close();
  }
}

describe("kill -9 in the middle of a replay", () => {
  it("leaves a clean store where every payload is applied whole or not at all, and a rerun converges", async () => {
    const data = join(dir.path, "data.json");
    writeFileSync(data, JSON.stringify(dataset()));
    const input = join(dir.path, "in.ndjson");
    await writePayloads(input);

    const clean = join(dir.path, "clean.db");
    expect((await run(["init", "--db", clean])).code).toBe(0);
    expect((await run(["import", data, "--db", clean])).code).toBe(0);
    expect((await runBin(["replay", input, "-q", "--db", clean])).code).toBe(0);

    const killed = join(dir.path, "killed.db");
    expect((await run(["init", "--db", killed])).code).toBe(0);
    expect((await run(["import", data, "--db", killed])).code).toBe(0);
    const child = spawn(process.execPath, [join(ROOT, "bin", "hooksync.js"), "replay", input, "-q", "--db", killed], { stdio: "ignore" });
    const watcher = new Database(killed, { readonly: true });
    const progress = () => (watcher.prepare("SELECT COUNT(*) AS n FROM activity").get() as { n: number }).n;
    let exited = false;
    child.on("exit", () => (exited = true));
    // Killed mid-run: once 40,000 rows are in, with the replay still going.
    await expect.poll(() => exited || progress() >= 40_000, { timeout: 60_000, interval: 10 }).toBe(true);
    expect(exited).toBe(false);
    watcher.close();
    child.kill("SIGKILL");
    await once(child, "close");

    const after = state(killed);
    expect(after.integrity).toBe("ok");
    const applied = after.counts.reduce((n, c) => n + c.n, 0);
    expect(applied).toBeGreaterThan(0);
    for (let i = 0; i < WORK_ITEMS; i++) {
      // The two issues of one work item changed together, always.
      expect(after.issues[i]!.email).toBe(after.issues[i + WORK_ITEMS]!.email);
      expect(after.counts[i]!.n).toBe(after.counts[i + WORK_ITEMS]!.n);
    }

    expect((await runBin(["replay", input, "-q", "--db", killed])).code).toBe(0);
    expect(state(killed).issues).toEqual(state(clean).issues);
  }, 180_000);
});
