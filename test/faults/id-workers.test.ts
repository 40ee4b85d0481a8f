import Database from "better-sqlite3";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseId } from "../../src/store/ids.js";
import { run, runBin, spawnServe, tempDir } from "../helpers.js";
import { VSTS_ID, VSTS_SECRET, datasetFile, fullDataset, loadFixture } from "../world.js";

const dir = tempDir();
afterAll(dir.cleanup);

// Each round starts four new replay processes, each taking an id worker anew while serve keeps
// its own: with random regions a round shares one between two live writers about a quarter of the
// time. Sized to about 30 s on two shared cores (each process start costs most of it).
const ROUNDS = 20;
const REPLAYS = 4;
const PAYLOADS_PER_REPLAY = 40;
const LINKED = 40;
const SERVE_KEY = 1000 + REPLAYS;

/** Every payload of one work item alternates its assignee and status, so each changes both on all LINKED issues. */
function payload(workItem: number, n: number, notificationId: number): string {
  const p = loadFixture("vsts-workitem-updated.json");
  const [to, from] = n % 2 === 0 ? ["Chuck Reinhart <fabrikamfiber3@hotmail.com>", "Jamal Hartnett <fabrikamfiber4@hotmail.com>"] : ["Jamal Hartnett <fabrikamfiber4@hotmail.com>", "Chuck Reinhart <fabrikamfiber3@hotmail.com>"];
  p.notificationId = notificationId;
  p.resource.workItemId = workItem;
  p.resource.rev = n + 1;
  p.resource.fields["System.Rev"] = { oldValue: n, newValue: n + 1 };
  p.resource.fields["System.AssignedTo"] = { oldValue: from, newValue: to };
  p.resource.fields["System.State"] = n % 2 === 0 ? { oldValue: "Active", newValue: "Resolved" } : { oldValue: "Resolved", newValue: "Active" };
  return JSON.stringify(p);
}

/** The demo dataset plus LINKED issues per writer, each group linked to that writer's work item. */
function dataset(): string {
  const d = fullDataset();
  for (let w = 0; w <= REPLAYS; w++) {
    for (let j = 0; j < LINKED; j++) {
      const id = `BACKEND-${100 + w * LINKED + j}`;
      d.issues.push({ id, project: "backend", title: `linked ${w}/${j}`, status: "unresolved", assignee: "fabrikamfiber4@hotmail.com" });
      d.links.push({ issue: id, integration: VSTS_ID, externalKey: String(1000 + w) });
    }
  }
  const path = join(dir.path, "dataset.json");
  writeFileSync(path, JSON.stringify(d));
  return path;
}

/** Where one writer's ids lay: under which worker number, from which millisecond to which. */
interface Span {
  writer: string;
  worker: number;
  from: number;
  to: number;
}

/** The spans of the ids one writer gave its group's activity rows after the id `after`. */
function spansOf(db: string, group: number, writer: string, after: number): { spans: Span[]; last: number } {
  const store = new Database(db, { readonly: true });
  const ids = store
    .prepare<[string, number], { id: number }>("SELECT a.id FROM activity a JOIN issues i ON i.id = a.issue_id WHERE i.title LIKE ? AND a.id > ? ORDER BY a.id")
    .all(`linked ${group}/%`, after)
    .map((r) => r.id);
  store.close();
  const byWorker = new Map<number, Span>();
  for (const id of ids) {
    const { worker, ms } = parseId(id);
    const span = byWorker.get(worker) ?? { writer, worker, from: ms, to: ms };
    span.to = ms;
    byWorker.set(worker, span);
  }
  return { spans: [...byWorker.values()], last: ids.at(-1) ?? after };
}

/** Two writers that made ids under one worker number at overlapping times: ids that can collide. */
function shared(spans: Span[]): string[] {
  return spans.flatMap((a, i) =>
    spans
      .slice(i + 1)
      .filter((b) => a.worker === b.worker && a.writer !== b.writer && a.from <= b.to && b.from <= a.to)
      .map((b) => `${a.writer} and ${b.writer} both made ids under worker ${a.worker} at once`),
  );
}

describe("four replays and a serve writing one store at once", () => {
  it("take distinct id workers and wait their turn: 20 rounds, every payload applied, no error", async () => {
    const db = join(dir.path, "store.db");
    expect((await run(["init", "--db", db])).code).toBe(0);
    expect((await run(["import", datasetFile(dir.path), "--db", db])).code).toBe(0);
    expect((await run(["import", dataset(), "--db", db])).code).toBe(0);
    const before = new Database(db, { readonly: true });
    const activityBefore = (before.prepare("SELECT count(*) AS n FROM activity").get() as { n: number }).n;
    before.close();

    const serve = spawnServe(["--db", db]);
    const url = await serve.url;
    const started = Date.now();
    const failures: string[] = [];
    const spans: Span[] = [];
    const lastSeen = Array.from({ length: REPLAYS }, () => 0);
    let posted = 0;
    let slowestAnswer = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const replays = Array.from({ length: REPLAYS }, (_, w) => {
        const input = join(dir.path, `round-${round}-replay-${w}.ndjson`);
        const lines = Array.from({ length: PAYLOADS_PER_REPLAY }, (_, n) => payload(1000 + w, round * PAYLOADS_PER_REPLAY + n, 1_000_000 * (w + 1) + round * 1000 + n));
        writeFileSync(input, lines.join("\n"));
        return runBin(["replay", input, "-q", "--db", db]);
      });
      let running = REPLAYS;
      for (const r of replays) void r.then(() => running--);
      // serve keeps answering while the replays write, one delivery after another.
      while (running > 0) {
        const sent = Date.now();
        const res = await fetch(`${url}/hooks/vsts`, {
          method: "POST",
          headers: { "content-type": "application/json", "shared-secret": VSTS_SECRET },
          body: payload(SERVE_KEY, posted, 100 + posted),
        });
        const text = await res.text();
        slowestAnswer = Math.max(slowestAnswer, Date.now() - sent);
        if (res.status !== 200) failures.push(`serve answered ${res.status}: ${text}`);
        posted++;
      }
      for (const r of await Promise.all(replays)) {
        if (r.code !== 0 || r.stderr !== "") failures.push(`replay exited ${r.code}: ${r.stderr.trim()}`);
      }
      for (let w = 0; w < REPLAYS; w++) {
        const found = spansOf(db, w, `replay ${w} of round ${round}`, lastSeen[w]!);
        spans.push(...found.spans);
        lastSeen[w] = found.last;
      }
    }
    const elapsed = Date.now() - started;
    serve.child.kill("SIGTERM");
    await serve.exited;
    spans.push(...spansOf(db, REPLAYS, "serve", 0).spans);

    const store = new Database(db, { readonly: true });
    const count = (sql: string) => (store.prepare(sql).get() as { n: number }).n;
    const activity = count("SELECT count(*) AS n FROM activity") - activityBefore;
    const deliveries = count("SELECT count(*) AS n FROM deliveries");
    store.close();

    console.log(`${ROUNDS} rounds: ${REPLAYS} replays x ${PAYLOADS_PER_REPLAY} payloads x ${LINKED} issues each, ${posted} deliveries to serve (slowest answer ${slowestAnswer} ms), ${elapsed} ms`);
    expect(failures).toEqual([]);
    expect(shared(spans)).toEqual([]);
    expect(serve.output().stderr).not.toMatch(/bug|SQLITE_BUSY|database is locked/i);
    // Ids are primary keys: a row lost to a collision shows as a missing row here.
    expect(activity).toBe((ROUNDS * REPLAYS * PAYLOADS_PER_REPLAY + posted) * LINKED * 2);
    expect(deliveries).toBe(posted);
  }, 120_000);
});
