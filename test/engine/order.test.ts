import { describe, expect, it } from "vitest";
import { openStore } from "../../src/store/store.js";
import { runBin } from "../helpers.js";
import { backends, storeTargets } from "../pg.js";
import { receiver } from "../receiver/harness.js";
import { VSTS_SECRET, loadFixture, world } from "../world.js";

const stores = storeTargets("engine_order");

let notification = 0;
/** Work item 5 (BACKEND-1, OPS-1) at a revision, changing the fields given; a fresh notification each. */
const vsts = (rev: number | undefined, fields: Record<string, unknown>) => {
  const p = loadFixture("vsts-workitem-updated.json");
  p.notificationId = ++notification;
  if (rev === undefined) {
    delete p.resource.rev;
    delete p.resource.revision.rev;
  } else p.resource.rev = p.resource.revision.rev = rev;
  p.resource.fields = fields;
  return p;
};
const assignTo = (email: string) => ({ "System.AssignedTo": { newValue: `Someone <${email}>` } });
const stateTo = (to: string) => ({ "System.State": { oldValue: "Active", newValue: to } });

/** PRJA-37 (WEB-1, BACKEND-2) assigned to an email, or unassigned with null, at a time. */
const jira = (timestamp: number | undefined, email: string | null) => {
  const p = loadFixture("jira-issue-updated-assignee.json");
  if (timestamp === undefined) delete p.timestamp;
  else p.timestamp = timestamp;
  p.issue.fields.assignee = email === null ? null : { ...p.issue.fields.assignee, emailAddress: email };
  return p;
};
const jiraStatus = (timestamp: number, to: string) => {
  const p = loadFixture("jira-issue-updated-status-resolved.json");
  p.timestamp = timestamp;
  p.changelog.items = [{ field: "status", from: "3", to }];
  return p;
};
const NOON = Date.parse("2024-03-06T12:00:00.000Z");
const HOUR = 3_600_000;

describe.each(backends)("order and revisions (behaviour.md section 10) on %s", (backend) => {
  const freshWorld = async () => world(await stores(backend));

  it("10.1 keeps the Azure DevOps resource.rev last applied and refuses an older one", async () => {
    const w = await freshWorld();
    expect((await w.replayOne(vsts(9, assignTo("fabrikamfiber3@hotmail.com")))).outcome).toBe("applied");
    const late = await w.replayOne(vsts(7, assignTo("fabrikamfiber4@hotmail.com")));
    expect(late).toMatchObject({ outcome: "ignored", reason: "stale: rev 7 after rev 9", changes: [] });
    expect((await w.issues())["BACKEND-1"]!.assignee).toBe("fabrikamfiber3@hotmail.com");
  });

  it("10.1 reads resource.revision.rev when resource.rev is missing", async () => {
    const w = await freshWorld();
    const newer = vsts(9, stateTo("Closed"));
    delete newer.resource.rev;
    const older = vsts(7, stateTo("Active"));
    delete older.resource.rev;
    expect(await w.replay([newer, older])).toMatchObject({ outcomes: [{ outcome: "applied" }, { outcome: "ignored", reason: "stale: rev 7 after rev 9" }] });
    expect((await w.issues())["BACKEND-1"]!.status).toBe("resolved");
  });

  it("10.1 Jira: reads the payload's numeric timestamp", async () => {
    const w = await freshWorld();
    const r = await w.replay([jira(NOON, "jane.doe@example.com"), jira(NOON - HOUR, null)]);
    expect(r.outcomes[1]).toMatchObject({ outcome: "ignored", reason: "stale: 2024-03-06T11:00:00.000Z after 2024-03-06T12:00:00.000Z" });
    expect((await w.issues())["WEB-1"]!.assignee).toBe("jane.doe@example.com");
  });

  it("10.1 Jira: reads issue.fields.updated (Jira's +0000 offsets) when there is no timestamp", async () => {
    const w = await freshWorld();
    const newer = jira(undefined, "jane.doe@example.com");
    newer.issue.fields.updated = "2024-03-06T13:30:00.250+0130";
    const older = jira(undefined, null);
    older.issue.fields.updated = "2024-03-06T11:59:59.999+0000";
    const r = await w.replay([newer, older]);
    expect(r.outcomes[1]).toMatchObject({ outcome: "ignored", reason: "stale: 2024-03-06T11:59:59.999Z after 2024-03-06T12:00:00.250Z" });
    // A timestamp and an updated time are the same clock: a later timestamp is applied.
    expect((await w.replayOne(jira(NOON + 1000, null))).outcome).toBe("applied");
  });

  it("10.1 a revision that cannot be read never rejects a payload: it is applied as before", async () => {
    const w = await freshWorld();
    const odd = vsts(9, stateTo("Active"));
    odd.resource.rev = "nine";
    odd.resource.revision.rev = { n: 9 };
    const noTime = jira(undefined, "jane.doe@example.com");
    noTime.issue.fields.updated = 20240306;
    // No such day: read loosely it would be 1 March, older than noon, and refused.
    const badDate = jira(undefined, null);
    badDate.issue.fields.updated = "2024-02-30T10:00:00.000+0000";
    const r = await w.replay([vsts(12, stateTo("Closed")), odd, jira(NOON, "bob.smith@example.com"), noTime, badDate]);
    expect(r.outcomes.map((o) => o.outcome)).toEqual(["applied", "applied", "applied", "applied", "applied"]);
    // What was kept is still there for payloads that carry a revision.
    expect((await w.replayOne(vsts(11, stateTo("Closed")))).reason).toBe("stale: rev 11 after rev 12");
    expect((await w.replayOne(jira(NOON - 1, "jane.doe@example.com"))).outcome).toBe("ignored");
  });

  it("10.2 a payload with no usable revision is applied as before and keeps no revision", async () => {
    const w = await freshWorld();
    await w.replayOne(vsts(9, assignTo("fabrikamfiber3@hotmail.com")));
    expect((await w.replayOne(vsts(undefined, assignTo("fabrikamfiber4@hotmail.com")))).outcome).toBe("applied");
    // The kept revision is still 9: the payload without one moved nothing back or forward.
    expect(await w.replayOne(vsts(8, assignTo("fabrikamfiber3@hotmail.com")))).toMatchObject({ outcome: "ignored", reason: "stale: rev 8 after rev 9" });
    expect((await w.replayOne(vsts(10, assignTo("fabrikamfiber3@hotmail.com")))).outcome).toBe("applied");
  });

  it("10.2 equal revisions are not stale (a redelivery changes nothing by rule 1.2), an older one is", async () => {
    const w = await freshWorld();
    const first = vsts(9, assignTo("fabrikamfiber3@hotmail.com"));
    expect(await w.replay([first, first])).toMatchObject({ outcomes: [{ outcome: "applied" }, { outcome: "ignored", reason: "inbound assignee sync is off for globex" }] });
    expect((await w.replayOne(vsts(9, assignTo("fabrikamfiber4@hotmail.com")))).outcome).toBe("applied");
    expect((await w.replayOne(vsts(8, assignTo("fabrikamfiber3@hotmail.com")))).reason).toBe("stale: rev 8 after rev 9");
    expect((await w.replayOne(jira(NOON, "jane.doe@example.com"))).outcome).toBe("applied");
    expect((await w.replayOne(jira(NOON, null))).outcome).toBe("applied");
    expect((await w.replayOne(jira(NOON - 1, "jane.doe@example.com"))).outcome).toBe("ignored");
  });

  it("10.2 judges fields separately: an old assignee change does not block a newer status one", async () => {
    const w = await freshWorld();
    await w.replayOne(vsts(9, assignTo("fabrikamfiber3@hotmail.com")));
    expect((await w.replayOne(vsts(7, stateTo("Closed")))).outcome).toBe("applied");
    const both = await w.replayOne(vsts(8, { ...assignTo("fabrikamfiber4@hotmail.com"), ...stateTo("Active") }));
    expect(both).toMatchObject({ outcome: "applied", changes: [{ issue: "BACKEND-1", field: "status", from: "resolved", to: "unresolved" }] });
    expect(both.notes).toContain("stale: rev 8 after rev 9");
    expect((await w.issues())["BACKEND-1"]).toMatchObject({ assignee: "fabrikamfiber3@hotmail.com", status: "unresolved" });

    const j = await freshWorld();
    await j.replayOne(jiraStatus(NOON, "10001"));
    expect((await j.replayOne(jira(NOON - HOUR, "jane.doe@example.com"))).outcome).toBe("applied");
    expect((await j.replayOne(jiraStatus(NOON - HOUR, "3"))).reason).toBe("stale: 2024-03-06T11:00:00.000Z after 2024-03-06T12:00:00.000Z");
    expect((await j.issues())["WEB-1"]).toMatchObject({ assignee: "jane.doe@example.com", status: "resolved" });
  });

  it("10.2 keeps the newest revision even when its value was current already", async () => {
    const w = await freshWorld();
    // BACKEND-1 is assigned to fabrikamfiber4 in the dataset: rev 9 changes nothing, but is kept.
    expect((await w.replayOne(vsts(9, assignTo("fabrikamfiber4@hotmail.com")))).outcome).toBe("ignored");
    expect(await w.replayOne(vsts(7, assignTo("fabrikamfiber3@hotmail.com")))).toMatchObject({ outcome: "ignored", reason: "stale: rev 7 after rev 9" });
    expect((await w.issues())["BACKEND-1"]!.assignee).toBe("fabrikamfiber4@hotmail.com");
  });

  it("10.2 keeps revisions of linked external issues only, one row per field", async () => {
    const w = await freshWorld();
    const unlinked = vsts(40, assignTo("fabrikamfiber3@hotmail.com"));
    unlinked.resource.workItemId = unlinked.resource.revision.id = 404;
    await w.replay([vsts(9, { ...assignTo("fabrikamfiber3@hotmail.com"), ...stateTo("Closed") }), vsts(11, stateTo("Active")), unlinked]);
    const store = await openStore(w.db);
    const rows = await store.sql.all("SELECT external_key AS key, field, revision FROM revisions ORDER BY key, field");
    await store.close();
    expect(rows).toEqual([
      { key: "5", field: "assignee", revision: 9 },
      { key: "5", field: "status", revision: 11 },
    ]);
  });

  it("10.3 replay --ignore-order applies an older payload for that run only", async () => {
    const w = await freshWorld();
    await w.replayOne(vsts(9, assignTo("fabrikamfiber3@hotmail.com")));
    const forced = await w.replayOne(vsts(7, assignTo("fabrikamfiber4@hotmail.com")), ["--ignore-order"]);
    expect(forced).toMatchObject({ outcome: "applied", notes: ["inbound assignee sync is off for globex"] });
    expect((await w.issues())["BACKEND-1"]!.assignee).toBe("fabrikamfiber4@hotmail.com");
    // The newest revision seen is still 9: the next run refuses 8 again.
    expect((await w.replayOne(vsts(8, assignTo("fabrikamfiber3@hotmail.com")))).reason).toBe("stale: rev 8 after rev 9");
  });

  it("10.3 serve refuses a stale delivery with the same reason", async () => {
    const w = await freshWorld();
    const r = await receiver(w.db);
    expect((await r.postVsts(JSON.stringify(vsts(9, assignTo("fabrikamfiber3@hotmail.com"))), { "shared-secret": VSTS_SECRET })).body).toMatchObject({ outcome: "applied" });
    const late = await r.postVsts(JSON.stringify(vsts(7, assignTo("fabrikamfiber4@hotmail.com"))), { "shared-secret": VSTS_SECRET });
    expect([late.status, late.body.outcome, late.body.reason]).toEqual([200, "ignored", "stale: rev 7 after rev 9"]);
  });

  it("10.3 simulate numbers its update after the newest revision kept, and --set resource.rev still decides", async () => {
    const w = await freshWorld();
    await w.replayOne(vsts(9, stateTo("Closed")));
    const sim = (...extra: string[]) => w.run(["simulate", "vsts", "workitem.updated", "--work-item", "5", ...extra, "--json"]);
    const printed = JSON.parse((await sim("--assign", "C <fabrikamfiber3@hotmail.com>", "--print")).stdout);
    expect([printed.resource.rev, printed.resource.revision.rev, printed.resource.fields["System.Rev"]]).toEqual([10, 10, { oldValue: 9, newValue: 10 }]);
    // Consecutive simulations follow each other and the real deliveries.
    for (const who of ["C <fabrikamfiber3@hotmail.com>", "J <fabrikamfiber4@hotmail.com>", "C <fabrikamfiber3@hotmail.com>"]) {
      expect(JSON.parse((await sim("--assign", who)).stdout)).toMatchObject({ outcome: "applied" });
    }
    expect(JSON.parse((await sim("--state", "Active")).stdout)).toMatchObject({ outcome: "applied" });
    const old = await sim("--state", "Closed", "--set", "resource.rev=8");
    expect(JSON.parse(old.stdout)).toMatchObject({ outcome: "ignored", reason: "stale: rev 8 after rev 13" });
  });

  it("10.3 simulate of Jira takes its timestamp from the clock: consecutive runs are not stale", async () => {
    const w = await freshWorld();
    const sim = (...extra: string[]) =>
      runBin(["simulate", "jira", "issue_updated", "--issue", "PRJA-37", ...extra, "--json", "--db", w.db]).then((r) => JSON.parse(r.stdout));
    expect(await sim("--assignee", "jane.doe@example.com")).toMatchObject({ outcome: "applied" });
    expect(await sim("--unassign")).toMatchObject({ outcome: "applied" });
    expect(await sim("--assignee", "bob.smith@example.com", "--set", "timestamp=1709648433495")).toMatchObject({ outcome: "ignored", reason: expect.stringMatching(/^stale: 2024-03-05T14:20:33.495Z after /) });
  });
});
