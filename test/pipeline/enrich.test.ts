import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { AssigneeEnricher } from "../../src/pipeline/enrich.js";
import { hiddenAssignee } from "../../src/providers/jira/assignee.js";
import { openStore } from "../../src/store/store.js";
import { fixture, ndjson, run, testDeps } from "../helpers.js";
import { JIRA_ID, NOW, jiraWorld } from "../world.js";

const base = JSON.parse(readFileSync(fixture("jira-issue-updated-assignee.json"), "utf8")) as { issue: { fields: Record<string, unknown> } };

/** The fixture with Jira's email visibility on: the assignee carries no emailAddress. */
const hidden = (assignee: Record<string, string>) => {
  const p = structuredClone(base);
  p.issue.fields.assignee = assignee;
  return p;
};

const w = jiraWorld();
beforeEach(() => w.storeCredentials());

function replay(payloads: unknown[], ...flags: string[]) {
  const file = join(w.dir, `p${Math.random()}.ndjson`);
  writeFileSync(file, payloads.map((p) => JSON.stringify(p)).join("\n"));
  return run(["replay", file, "--db", w.db, "--json", ...flags], { env: w.env });
}

const userLookups = () => w.jira.requests.filter((q) => q.url.pathname === "/rest/api/2/user");

describe("rule 3.5: hidden assignee emails", () => {
  it("looks the user up by key with the stored OAuth credentials, applies the assignment and caches the email", async () => {
    const r = await replay([hidden({ name: "jdoe", key: "JIRAUSER10400", displayName: "Jane Doe" })]);
    expect(r.code).toBe(0);
    expect(ndjson(r.stdout)[0]).toMatchObject({ outcome: "applied", changes: [{ issue: "BACKEND-1", field: "assignee", from: null, to: "jane.doe@example.com" }] });
    expect(userLookups().map((q) => q.url.search)).toEqual(["?key=JIRAUSER10400"]);
    expect(userLookups()[0]!.headers.authorization).toMatch(/^OAuth .*oauth_signature_method="RSA-SHA1"/);
    const store = await openStore(w.db);
    try {
      const row = (await store.integrations.byExternalId(JIRA_ID))!;
      expect(await store.jiraUsers.get(row.id, "JIRAUSER10400")).toEqual({ email: "jane.doe@example.com", fetchedAt: new Date(NOW).toISOString() });
    } finally {
      await store.close();
    }
  });

  it("uses the cache on the next payload instead of asking Jira again", async () => {
    await replay([hidden({ name: "jdoe", key: "JIRAUSER10400" })]);
    w.jira.reset();
    const r = await replay([hidden({ name: "jdoe", key: "JIRAUSER10400" }), hidden({ name: "jdoe", key: "JIRAUSER10400" })]);
    expect(r.code).toBe(0);
    expect(userLookups()).toHaveLength(0);
  });

  it("with --dry-run caches what Jira answers for the run only, and writes nothing to the store", async () => {
    const r = await replay([hidden({ key: "JIRAUSER10400" }), hidden({ key: "JIRAUSER10400" })], "--dry-run");
    expect(ndjson(r.stdout).map((o) => o.outcome)).toEqual(["applied", "applied"]);
    expect(userLookups()).toHaveLength(1);
    const store = await openStore(w.db);
    try {
      expect(await store.jiraUsers.get((await store.integrations.byExternalId(JIRA_ID))!.id, "JIRAUSER10400")).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("falls back to the user name when Jira knows no such key", async () => {
    const r = await replay([hidden({ name: "jdoe", key: "JIRAUSER99999" })]);
    expect(ndjson(r.stdout)[0]!.outcome).toBe("applied");
    expect(userLookups().map((q) => q.url.search)).toEqual(["?key=JIRAUSER99999", "?username=jdoe"]);
  });

  it("leaves the payload alone when Jira has no email either, and says so with -v", async () => {
    const r = await replay([hidden({ name: "hidden", key: "JIRAUSER10500" })], "-v");
    expect(ndjson(r.stdout)[0]).toMatchObject({ outcome: "ignored", reason: "assignee has no email address" });
    expect(r.stderr).toContain("Jira has no email address for user JIRAUSER10500");
  });

  it("with JIRA_API_TOKEN and nothing stored, looks the user up with that personal access token", async () => {
    const env = { ...w.env, HOOKSYNC_CONFIG_DIR: join(w.dir, "none"), JIRA_API_TOKEN: w.jira.personalToken() };
    const r = await run(["replay", "-", "--db", w.db, "--json"], { env, stdin: JSON.stringify(hidden({ key: "JIRAUSER10400" })) });
    expect(ndjson(r.stdout)[0]).toMatchObject({ outcome: "applied", changes: [{ to: "jane.doe@example.com" }] });
    expect(userLookups().map((q) => q.headers.authorization)).toEqual([`Bearer ${env.JIRA_API_TOKEN}`]);
  });

  it("without stored credentials asks nothing and ignores as before", async () => {
    const r = await run(["replay", "-", "--db", w.db, "--json"], { env: { HOOKSYNC_CONFIG_DIR: join(w.dir, "none") }, stdin: JSON.stringify(hidden({ key: "JIRAUSER10400" })) });
    expect(ndjson(r.stdout)[0]).toMatchObject({ outcome: "ignored", reason: "assignee has no email address" });
    expect(w.jira.requests).toHaveLength(0);
  });

  it("on a failed lookup leaves the payload alone, notes why with -v, and stops asking for the rest of the run", async () => {
    w.jira.failNext({ status: 503 }, { times: 100 });
    const r = await replay([hidden({ key: "JIRAUSER10400" }), hidden({ key: "JIRAUSER10400" })], "-v");
    expect(r.code).toBe(0);
    expect(ndjson(r.stdout).map((o) => o.reason)).toEqual(["assignee has no email address", "assignee has no email address"]);
    expect(r.stderr).toContain(`could not look up Jira users for ${JIRA_ID}: Jira failed (HTTP 503 on look up a user)`);
    expect(userLookups()).toHaveLength(4);
  });

  it("pauses an integration's lookups for the cooldown after a failure, then asks Jira again and recovers", async () => {
    let now = NOW;
    const { deps } = testDeps({ env: w.env, now: () => new Date(now) });
    const store = await openStore(w.db);
    const enricher = new AssigneeEnricher({ deps, budgetMs: 2_000, cooldownMs: 10_000 });
    const delivery = { source: "x", headers: {}, provider: "jira" as const, body: { ok: true as const, value: hidden({ key: "JIRAUSER10400" }) } };
    try {
      w.jira.failNext({ status: 503 }, { times: 100 });
      const failed = await enricher.enrich(store, delivery, JIRA_ID);
      expect(failed.failure).toMatch(`could not look up Jira users for ${JIRA_ID}: Jira failed (HTTP 503 on look up a user)`);
      // Within the budget: one attempt, no retries.
      expect(userLookups()).toHaveLength(1);
      now += 9_000;
      expect((await enricher.enrich(store, delivery, JIRA_ID)).failure).toBe(failed.failure);
      expect(userLookups()).toHaveLength(1);
      w.jira.reset();
      now += 1_001;
      const recovered = await enricher.enrich(store, delivery, JIRA_ID);
      expect(recovered.failure).toBeUndefined();
      expect(recovered.delivery).toMatchObject({ body: { value: { issue: { fields: { assignee: { emailAddress: "jane.doe@example.com" } } } } } });
      expect(userLookups()).toHaveLength(1);
    } finally {
      await enricher.close();
      await store.close();
    }
  });

  it("reads envelopes as serve records them", async () => {
    const { deps } = testDeps({ env: w.env });
    const store = await openStore(w.db);
    const enricher = new AssigneeEnricher({ deps });
    try {
      const body = { provider: "jira", integration: JIRA_ID, headers: {}, body: hidden({ key: "JIRAUSER10400" }) };
      const { delivery: out } = await enricher.enrich(store, { source: "x", headers: {}, body: { ok: true, value: body } });
      expect(out).toMatchObject({ provider: "jira", integration: JIRA_ID, body: { ok: true, value: { issue: { fields: { assignee: { emailAddress: "jane.doe@example.com" } } } } } });
    } finally {
      await enricher.close();
      await store.close();
    }
  });
});

describe("hiddenAssignee", () => {
  it.each([
    ["an email", { ...base }, undefined],
    ["a hidden email", hidden({ key: "K", name: "n" }), { key: "K", name: "n" }],
    ["an empty email", hidden({ key: "K", emailAddress: "" }), { key: "K" }],
    ["no assignee change", { ...hidden({ key: "K" }), changelog: { items: [{ field: "status" }] } }, undefined],
    ["an unassign", { ...base, issue: { fields: { assignee: null } } }, undefined],
  ])("with %s gives %j", (_c, body, expected) => {
    expect(hiddenAssignee(body)).toEqual(expected);
  });
});
