import { readFileSync } from "node:fs";
import { describe, expect, it, onTestFinished } from "vitest";
import { main } from "../../src/cli/main.js";
import { signJwt } from "../../src/providers/jira/jwt.js";
import { IntegrationsRepo } from "../../src/store/integrations-repo.js";
import { fixture, testDeps } from "../helpers.js";
import { JIRA_SECRET, receiver } from "../receiver/harness.js";
import { JIRA_ID, world } from "../world.js";

/**
 * Counts every integration the store is asked for until stop(), memoized or not: each is a lookup
 * some code made. Counted on the repository's class, since each transaction's Store has an
 * IntegrationsRepo of its own; the test's one store is the only one asked meanwhile.
 */
function countReads(): { reads: () => number; stop: () => void } {
  const repo = IntegrationsRepo.prototype;
  const { byExternalId, onlyOf } = repo;
  let n = 0;
  repo.byExternalId = function (id) {
    n++;
    return byExternalId.call(this, id);
  };
  repo.onlyOf = function (p) {
    n++;
    return onlyOf.call(this, p);
  };
  const stop = () => void Object.assign(repo, { byExternalId, onlyOf });
  onTestFinished(stop);
  return { reads: () => n, stop };
}

/** `hooksync <argv>` in-process, counting the integration reads of the store it opens. */
async function counted(db: string, argv: string[]): Promise<{ code: number; reads: number }> {
  const { deps } = testDeps();
  const counter = countReads();
  try {
    const code = await main([...argv, "--db", db], deps);
    return { code, reads: counter.reads() };
  } finally {
    counter.stop();
  }
}

const raw = (name: string) => readFileSync(fixture(name));
/** Jira's email visibility on: the assignee carries no emailAddress, so a lookup is needed. */
const hiddenAssignee = () => {
  const p = JSON.parse(raw("jira-issue-updated-assignee.json").toString());
  p.issue.fields.assignee.emailAddress = "";
  return JSON.stringify(p);
};

describe("a delivery's integration is looked up once", () => {
  it("through serve, for a VSTS delivery and for a Jira one that waits on an assignee lookup", async () => {
    const w = await world();
    const r = await receiver(w.db, {}, {
      lookup: async (d) => {
        const body = structuredClone((d.body as { value: any }).value);
        body.issue.fields.assignee.emailAddress = "bob.smith@example.com";
        return { ok: true, delivery: { ...d, body: { ok: true, value: body } } };
      },
    });
    const { reads } = countReads();
    expect((await r.postVsts(raw("vsts-workitem-updated.json"))).body.outcome).toBe("applied");
    expect(reads()).toBe(1);
    expect((await r.postJira(signJwt({ id: JIRA_ID }, JIRA_SECRET), hiddenAssignee())).body.outcome).toBe("applied");
    expect(reads()).toBe(2);
  });

  it("through replay --delivery and simulate, with and without an assignee lookup", async () => {
    const w = await world();
    const r = await receiver(w.db);
    const vsts = (await r.postVsts(raw("vsts-workitem-updated.json"))).body.delivery;
    const jira = (await r.postJira(signJwt({ id: JIRA_ID }, JIRA_SECRET), hiddenAssignee())).body.delivery;
    await r.close();
    expect(await counted(w.db, ["replay", "--delivery", String(vsts), "-q"])).toEqual({ code: 0, reads: 1 });
    // No Jira credentials are stored, so the lookup cannot answer; it still resolved the integration once.
    expect(await counted(w.db, ["replay", "--delivery", String(jira), "-q"])).toEqual({ code: 0, reads: 1 });
    expect(await counted(w.db, ["simulate", "vsts", "workitem.updated", "--work-item", "5", "--state", "Closed", "-q"])).toEqual({ code: 0, reads: 1 });
    expect(await counted(w.db, ["simulate", "jira", "issue_updated", "--issue", "PRJA-37", "--status", "10001", "-q"])).toEqual({ code: 0, reads: 1 });
  });
});
