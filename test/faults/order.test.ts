import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ndjson, run, tempDir } from "../helpers.js";
import { JIRA_ID, VSTS_ID, datasetFile, loadFixture } from "../world.js";

const dir = tempDir();
afterAll(dir.cleanup);

const ITEMS = 12;
const REVISIONS = 25;
// Verified members of project backend, and mapped states only: every payload's value is one
// the engine applies, so the last revision alone decides each field, whatever came before.
const EMAILS = ["jane.doe@example.com", "fabrikamfiber3@hotmail.com", "fabrikamfiber4@hotmail.com", null];
const VSTS_STATES = ["Active", "Resolved", "Closed", "New"];
const JIRA_STATUSES = ["3", "10001", "10000"];
const T0 = Date.parse("2024-03-06T09:00:00.000Z");

/** A deterministic generator (xorshift), so a failure replays the same way. */
function rng(seed: number) {
  let x = seed;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** Work items 100.. and Jira issues PRJA-100.., each linked to its own issue of project backend. */
function dataset() {
  const issues = [];
  const links = [];
  for (let i = 0; i < ITEMS; i++) {
    issues.push({ id: `BACKEND-${100 + i}`, project: "backend", title: `work item ${100 + i}` });
    links.push({ issue: `BACKEND-${100 + i}`, integration: VSTS_ID, externalKey: String(100 + i) });
    issues.push({ id: `BACKEND-${200 + i}`, project: "backend", title: `PRJA-${100 + i}` });
    links.push({ issue: `BACKEND-${200 + i}`, integration: JIRA_ID, externalKey: `PRJA-${100 + i}` });
  }
  return { issues, links };
}

/** Each external issue's history in order: revisions 2.. (Jira: a minute apart), changing assignee, status or both. */
function history(random: (n: number) => number): unknown[] {
  const vsts = loadFixture("vsts-workitem-updated.json");
  const jira = loadFixture("jira-issue-updated-assignee.json");
  const out: unknown[] = [];
  let n = 0;
  for (let rev = 2; rev < REVISIONS + 2; rev++) {
    for (let i = 0; i < ITEMS; i++) {
      const what = random(3);
      const email = EMAILS[random(EMAILS.length)]!;
      const fields: Record<string, unknown> = {};
      if (what !== 1) fields["System.AssignedTo"] = email === null ? {} : { newValue: `Someone <${email}>` };
      if (what !== 0) fields["System.State"] = { newValue: VSTS_STATES[random(VSTS_STATES.length)] };
      vsts.notificationId = ++n;
      vsts.resource.workItemId = vsts.resource.revision.id = 100 + i;
      vsts.resource.rev = vsts.resource.revision.rev = rev;
      vsts.resource.fields = fields;
      out.push(structuredClone(vsts));

      const items: unknown[] = [];
      if (what !== 1) items.push({ field: "assignee", from: null, to: "someone" });
      if (what !== 0) items.push({ field: "status", from: null, to: JIRA_STATUSES[random(JIRA_STATUSES.length)] });
      jira.timestamp = T0 + rev * 60_000;
      jira.issue.key = `PRJA-${100 + i}`;
      jira.issue.id = String(20_000 + i);
      jira.issue.fields.assignee = email === null ? null : { ...jira.issue.fields.assignee, emailAddress: email };
      jira.changelog.id = String(++n);
      jira.changelog.items = items;
      out.push(structuredClone(jira));
    }
  }
  return out;
}

function shuffled<T>(list: T[], random: (n: number) => number): T[] {
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** A fresh store with the dataset, the stream replayed into it, and its issues' final state. */
async function replayed(name: string, stream: unknown[], flags: string[] = []) {
  const db = join(dir.path, `${name}.db`);
  expect((await run(["init", "--db", db])).code).toBe(0);
  expect((await run(["import", datasetFile(dir.path), "--db", db])).code).toBe(0);
  expect((await run(["import", "-", "--db", db], { stdin: JSON.stringify(dataset()) })).code).toBe(0);
  const r = await run(["replay", "-", "--json", "--db", db, ...flags], { stdin: stream.map((p) => JSON.stringify(p)).join("\n") });
  expect(r.code, r.stderr).toBe(0);
  const list = JSON.parse((await run(["issue", "list", "--json", "--db", db])).stdout) as { id: string; assignee: string | null; status: string }[];
  const state = Object.fromEntries(list.filter((i) => /^BACKEND-[12]\d\d$/.test(i.id)).map((i) => [i.id, [i.assignee, i.status]]));
  return { state, outcomes: ndjson(r.stdout) as { outcome: string; reason: string | null; notes: string[] }[] };
}

describe("a shuffled stream of revisions (behaviour.md 10.2, issue 12 item 5)", () => {
  it("ends in the same state as the ordered stream, and not without the guard (--ignore-order)", async () => {
    const random = rng(0x5eed);
    const ordered = history(random);
    const mixed = shuffled(ordered, random);

    const inOrder = await replayed("ordered", ordered);
    expect(inOrder.outcomes.every((o) => o.outcome !== "rejected" && !o.reason?.startsWith("stale") && !o.notes.some((n) => n.startsWith("stale")))).toBe(true);
    const guarded = await replayed("shuffled", mixed);
    expect(Object.keys(guarded.state)).toHaveLength(2 * ITEMS);
    expect(guarded.state).toEqual(inOrder.state);
    const refused = guarded.outcomes.filter((o) => o.reason?.startsWith("stale: ") || o.notes.some((n) => n.startsWith("stale: "))).length;
    expect(refused).toBeGreaterThan(ordered.length / 4);

    const unguarded = await replayed("unguarded", mixed, ["--ignore-order"]);
    expect(unguarded.state).not.toEqual(inOrder.state);
    console.log(
      `order fault: ${ordered.length} payloads over ${2 * ITEMS} external issues, shuffled: ${refused} refused as stale, ` +
        `same final state as in order; without the guard ${Object.keys(inOrder.state).filter((k) => JSON.stringify(unguarded.state[k]) !== JSON.stringify(inOrder.state[k])).length} of ${2 * ITEMS} issues end wrong`,
    );
  });
});
