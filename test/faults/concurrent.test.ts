import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run, runBin, spawnServe, tempDir } from "../helpers.js";
import { VSTS_ID, VSTS_SECRET, datasetFile, loadFixture } from "../world.js";

const dir = tempDir();
afterAll(dir.cleanup);

describe("serve and replay writing the same store at once", () => {
  it("answers every delivery and finishes the replay: no SQLITE_BUSY reaches the user", async () => {
    const db = join(dir.path, "store.db");
    expect((await run(["init", "--db", db])).code).toBe(0);
    expect((await run(["import", datasetFile(dir.path), "--db", db])).code).toBe(0);

    const payload = loadFixture("vsts-workitem-updated.json");
    const lines: string[] = [];
    for (let n = 0; n < 30_000; n++) {
      payload.notificationId = n;
      payload.resource.fields["System.AssignedTo"].newValue = n % 2 ? "C <fabrikamfiber3@hotmail.com>" : "J <fabrikamfiber4@hotmail.com>";
      lines.push(JSON.stringify(payload));
    }
    const input = join(dir.path, "in.ndjson");
    writeFileSync(input, lines.join("\n"));

    const serve = spawnServe(["--db", db]);
    const url = await serve.url;

    const replay = runBin(["replay", input, "-q", "--db", db]);
    let replayDone = false;
    void replay.then(() => (replayDone = true));
    let overlapped = 0;
    const statuses: number[] = [];
    const body = loadFixture("vsts-workitem-updated.json");
    body.subscriptionId = "0f1e2d3c-0000-4000-8000-000000000000";
    for (let n = 0; n < 150; n++) {
      body.notificationId = 100_000 + n;
      const res = await fetch(`${url}/hooks/vsts`, {
        method: "POST",
        headers: { "content-type": "application/json", "shared-secret": VSTS_SECRET },
        body: JSON.stringify(body),
      });
      statuses.push(res.status);
      if (!replayDone) overlapped++;
      await res.text();
    }
    const replayed = await replay;
    await serve.stop();

    expect(statuses.every((s) => s === 200)).toBe(true);
    // The two really wrote at the same time.
    expect(overlapped).toBeGreaterThan(10);
    expect(replayed.code).toBe(0);
    for (const text of [replayed.stderr, serve.output().stderr]) expect(text).not.toMatch(/SQLITE_BUSY|database is locked/i);
    const deliveries = JSON.parse((await run(["deliveries", "--json", "--limit", "1000", "--db", db])).stdout) as unknown[];
    expect(deliveries).toHaveLength(150);
    expect(JSON.parse((await run(["issue", "list", "--json", "--db", db])).stdout)[0]).toMatchObject({ id: "BACKEND-1", links: [{ integration: VSTS_ID }] });
  }, 120_000);
});
