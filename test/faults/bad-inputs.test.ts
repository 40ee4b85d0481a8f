import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { signJwt } from "../../src/providers/jira/jwt.js";
import { ndjson, run, tempDir } from "../helpers.js";
import { receiver } from "../receiver/harness.js";
import { JIRA_ID, JIRA_SECRET, VSTS_ID, datasetFile, loadFixture } from "../world.js";

const vsts = () => loadFixture("vsts-workitem-updated.json");
const jira = () => loadFixture("jira-issue-updated-assignee.json");
const huge = "x".repeat(2_000_000);

/** Each bad input, as the bytes a tracker (or an attacker) could send. */
const corpus: [string, () => Buffer | string][] = [
  ["truncated JSON", () => JSON.stringify(vsts()).slice(0, 500)],
  ["deeply nested JSON", () => `{"eventType":"workitem.updated","resource":${"[".repeat(200_000)}${"]".repeat(200_000)}}`],
  ["a huge event type", () => JSON.stringify({ ...vsts(), eventType: huge })],
  ["a huge work item id", () => JSON.stringify({ ...vsts(), resource: { ...vsts().resource, workItemId: huge } })],
  ["a huge assignee", () => JSON.stringify({ ...vsts(), resource: { ...vsts().resource, fields: { "System.AssignedTo": { newValue: `${huge} <${huge}@x.com>` } } } })],
  ["wrong types", () => JSON.stringify({ ...vsts(), resource: { ...vsts().resource, fields: { "System.State": { newValue: { $gt: "" } } } } })],
  ["a wrong collection id type", () => JSON.stringify({ ...vsts(), resourceContainers: { collection: { id: 12 } } })],
  ["invalid UTF-8", () => Buffer.concat([Buffer.from('{"eventType":"workitem.updated","x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])],
  ["prototype pollution keys", () => `{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"eventType":"workitem.updated","resourceContainers":{"collection":{"id":"${VSTS_ID}"},"__proto__":{"polluted":1}},"resource":{"workItemId":5,"fields":{"__proto__":{"polluted":1},"System.AssignedTo":{"newValue":"a <nobody@example.com>"}}}}`],
  ["a JSON array body", () => "[1,2,3]"],
  ["JSON null", () => "null"],
];

describe("bad inputs (issue 6 corpus)", () => {
  // For replay a top-level array is a list of payloads (a format, not a bad input): serve only.
  it.each(corpus.filter(([what]) => what !== "a JSON array body"))("replay: %s gets a clear reason, nothing is written, the run goes on", async (_what, make) => {
    const dir = tempDir();
    try {
      const db = join(dir.path, "s.db");
      await run(["init", "--db", db]);
      await run(["import", datasetFile(dir.path), "--db", db]);
      const input = Buffer.concat([Buffer.from(make()), Buffer.from("\n"), Buffer.from(JSON.stringify(vsts()))]);
      const r = await run(["replay", "-", "--json", "--db", db], { stdin: input });
      const lines = ndjson(r.stdout);
      expect(lines).toHaveLength(2);
      expect(lines[0]!.outcome).not.toBe("applied");
      expect(String(lines[0]!.reason).length).toBeLessThan(500);
      expect(JSON.stringify(lines[0]).length).toBeLessThan(2000);
      expect(lines[1]).toMatchObject({ outcome: "applied" });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      const activity = JSON.parse((await run(["activity", "--json", "--db", db])).stdout) as unknown[];
      expect(activity).toHaveLength(1);
    } finally {
      dir.cleanup();
    }
  });

  it("serve: every one is answered 4xx or ignored, nothing applied, and the receiver keeps serving", async () => {
    const dir = tempDir();
    try {
      const db = join(dir.path, "s.db");
      await run(["init", "--db", db]);
      await run(["import", datasetFile(dir.path), "--db", db]);
      const r = await receiver(db, { bodyLimit: 8 * 1024 * 1024 });
      for (const [what, make] of corpus) {
        const a = await r.postVsts(make());
        expect([200, 400, 413], what).toContain(a.status);
        if (a.status === 200) expect(a.body.outcome, what).toBe("ignored");
        const token = signJwt({ id: JIRA_ID }, JIRA_SECRET);
        const b = await r.postJira(token, make());
        expect([200, 400, 413], what).toContain(b.status);
        if (b.status === 200) expect(b.body.outcome, what).toBe("ignored");
        expect((await r.request("GET", "/healthz")).status, what).toBe(200);
      }
      expect(await r.count("activity")).toBe(0);
      expect(r.errors).toEqual([]);
      const stored = await r.rawDeliveries();
      expect(stored).toHaveLength(corpus.length * 2);
      for (const d of stored) expect((d.reason ?? "").length).toBeLessThan(500);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      // And it still applies a good one.
      expect((await r.postVsts(JSON.stringify(vsts()))).body.outcome).toBe("applied");
      expect((await r.postJira(signJwt({ id: JIRA_ID }, JIRA_SECRET), JSON.stringify(jira()))).body.outcome).toBe("applied");
    } finally {
      dir.cleanup();
    }
  }, 60_000);
});
