import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { Agent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Change } from "../../src/engine/types.js";
import { drainSender } from "../../src/outbound/drain.js";
import { GIVE_UP_MS, LEASE_MS } from "../../src/outbound/schedule.js";
import { type PushResult, type Sender, sendAll, sendDue } from "../../src/outbound/send.js";
import { type Store, openStore } from "../../src/store/store.js";
import { throttled } from "../fakes/azure-devops.js";
import { testDeps } from "../helpers.js";
import { JIRA_ID, NOW, VSTS_ID, VSTS_PROJECT, VSTS_SECRET, expectNoSecrets, outboundWorld } from "../world.js";

const w = outboundWorld();

let clock = NOW;
let store: Store;
const agents: Agent[] = [];

beforeEach(async () => {
  clock = NOW;
  // The fake Jira checks OAuth timestamps against its own clock: the test's.
  w.jira.state.now = () => clock;
  // BACKEND-2 is a second issue pushed to Azure DevOps, on work item 7.
  await w.importData({
    issues: [{ id: "BACKEND-2", project: "backend", title: "Slow search", status: "unresolved", assignee: null }],
    links: [{ issue: "BACKEND-2", integration: "c12d0eb8-e382-443b-9f9c-c52cba5014c2", externalKey: "7" }],
  });
  w.workItems.items.get(7)!.project = VSTS_PROJECT;
  store = await openStore(w.db);
});
afterEach(async () => {
  await store.close();
  await Promise.all(agents.splice(0).map((a) => a.close()));
});

/**
 * serve's drain sender on the test's clock. Jitter (4 random bytes) is zero, so every wait is the
 * schedule's lowest (0.9x); OAuth nonces (16 bytes) stay random, as the fake Jira refuses a reused one.
 */
async function drain(jitter = 0): Promise<{ sender: Sender; sleeps: number[] }> {
  const { deps, sleeps } = testDeps({ env: w.env, now: () => new Date(clock) });
  deps.randomBytes = (n) => (n === 4 ? Buffer.alloc(n, jitter) : randomBytes(n));
  const agent = new Agent();
  agents.push(agent);
  return { sender: await drainSender(store, deps, agent), sleeps };
}

/** Runs one pass of the drain: every due row, until none is left. */
async function pass(sender: Sender): Promise<PushResult[]> {
  const results: PushResult[] = [];
  await sendDue(sender, () => false, (r) => results.push(r));
  return results;
}

/** Queues a change as if Jira had sent it, with its activity row as the engine writes it: pushed to Azure DevOps only (no echo), no Discord unless on. */
async function queue(issue: string, field: Change["field"], to: string | null, from: "jira" | "vsts" = "jira"): Promise<number[]> {
  const origin = (await store.integrations.byExternalId(from === "jira" ? JIRA_ID : VSTS_ID))!;
  const at = new Date(clock).toISOString();
  return store.inTransaction(async (tx) => {
    const issueId = (await tx.links.issueId(issue))!;
    const kind = field === "status" ? (to === "resolved" ? "resolved" : "unresolved") : to === null ? "unassigned" : "assigned";
    await tx.sync.write({ issues: [], revisions: [], activity: [{ issueId, kind, from: null, to, source: "serve", deliveryId: null, at }] });
    return tx.outbox.enqueue([{ issue, issueId, field, from: null, to }], { integrationId: origin.id, via: from, at });
  });
}

const row = async (id: number) => (await store.outbox.get(id))!;
/** A due row claimed by sender by, as serve's drain does. */
const claim = (by: string, s: Store = store) => s.outbox.claimNext({ by, now: clock, until: clock + LEASE_MS, at: new Date(clock).toISOString(), due: true, after: 0, skip: [] });
const patches = () => w.azure.requests.filter((r) => r.method === "PATCH").map((r) => r.url.pathname.split("/").pop());

describe("the outbox's schedule (issue 12 item 6)", () => {
  it("a failed push stays pending with its error, tried again 30 s later, doubling up to an hour", async () => {
    const { sender } = await drain();
    w.azure.failNext({ status: 500, body: { message: "boom" } }, { times: 1000 });
    const [id] = await queue("BACKEND-1", "assignee", "jane.doe@example.com");
    const waits: number[] = [];
    for (let n = 0; n < 10; n++) {
      expect(await pass(sender)).toHaveLength(1);
      const r = await row(id!);
      expect(r).toMatchObject({ state: "pending", attempts: n + 1, lastError: expect.stringContaining("HTTP 500") });
      waits.push(r.nextAttemptAt - clock);
      // Not due yet: the next pass sends nothing.
      clock = r.nextAttemptAt - 1;
      expect(await pass(sender)).toEqual([]);
      clock = r.nextAttemptAt;
    }
    const s = 1000 * 0.9;
    expect(waits).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600].map((x) => x * s));
  });

  it("the jitter spreads a wait by at most a tenth either way", async () => {
    const { sender } = await drain(0xff);
    w.azure.failNext({ status: 500 });
    const [id] = await queue("BACKEND-1", "assignee", "jane.doe@example.com");
    await pass(sender);
    expect((await row(id!)).nextAttemptAt - clock).toBe(33_000);
  });

  it("gives up after 3 days of failing: failed, in 'outbound list --failed' and doctor; the drain leaves it, 'outbound retry' still sends it", async () => {
    const { sender } = await drain();
    w.azure.failNext({ status: 500 }, { times: 1000 });
    const [id] = await queue("BACKEND-1", "assignee", "jane.doe@example.com");
    const start = clock;
    while ((await row(id!)).state === "pending") {
      expect(await pass(sender)).toHaveLength(1);
      clock = (await row(id!)).nextAttemptAt;
    }
    expect((await row(id!)).state).toBe("failed");
    expect((await row(id!)).attempts).toBeGreaterThan(70);
    expect(clock - start).toBeGreaterThanOrEqual(GIVE_UP_MS);
    clock += 24 * 3600_000;
    expect(await pass(sender)).toEqual([]);

    const list = await w.run(["outbound", "list", "--failed", "--json"]);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id, state: "failed", nextAttemptAt: null, error: expect.stringContaining("HTTP 500") })]);
    const doctor = await w.run(["doctor", "--offline"]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/fail +outbox +1 push given up after 3 days of failing/);

    w.azure.reset();
    const retry = await w.run(["outbound", "retry", "--json"]);
    expect(retry.code).toBe(0);
    expect(JSON.parse(retry.stdout)).toEqual([expect.objectContaining({ id, ok: true })]);
    expect((await w.run(["doctor", "--offline"])).code).toBe(0);
  });

  it("a 429 or 503 with Retry-After puts the next attempt at least that far off, without waiting it out in the send", async () => {
    const { sender, sleeps } = await drain();
    const [first] = await queue("BACKEND-1", "assignee", "jane.doe@example.com");
    const [second] = await queue("BACKEND-2", "assignee", "jane.doe@example.com");
    w.azure.failNext(throttled(600), { match: (q) => q.url.pathname.endsWith("/5") });
    w.azure.failNext({ status: 503, headers: { "retry-after": "900" } }, { match: (q) => q.url.pathname.endsWith("/7") });
    await pass(sender);
    expect((await row(first!)).nextAttemptAt - clock).toBe(600_000);
    expect((await row(second!)).nextAttemptAt - clock).toBe(900_000);
    expect((await row(first!)).lastError).toContain("HTTP 429");
    expect(sleeps).toEqual([]);
  });

  it("Azure DevOps' Retry-After on a 200: its next row waits that long, other trackers' rows go", async () => {
    const { sender } = await drain();
    await queue("BACKEND-1", "assignee", "jane.doe@example.com");
    const [second] = await queue("BACKEND-2", "assignee", "jane.doe@example.com");
    // A change from the command line goes to Jira too.
    const local = await store.inTransaction(async (tx) => tx.outbox.enqueue([{ issue: "BACKEND-1", issueId: (await tx.links.issueId("BACKEND-1"))!, field: "status", from: null, to: "resolved" }], { integrationId: null, via: "cli", at: new Date(clock).toISOString() }));
    w.workItems.retryAfterOnSuccess = 120;
    const sent = await pass(sender);
    expect(patches()).toEqual(["5"]);
    expect(sent.map((r) => [r.externalKey, r.ok])).toEqual([
      ["5", true],
      ["PRJA-37", true],
    ]);
    expect(await row(second!)).toMatchObject({ state: "pending", attempts: 0 });
    expect(local).toHaveLength(2);
    clock += 119_000;
    expect(await pass(sender)).toEqual([]);
    clock += 1_000;
    expect((await pass(sender)).map((r) => r.externalKey)).toEqual(["7", "5"]);
  });

  it("by hand, Azure DevOps' Retry-After on a 200 is waited out before the next call", async () => {
    await queue("BACKEND-1", "assignee", "jane.doe@example.com");
    await queue("BACKEND-2", "assignee", "jane.doe@example.com");
    w.workItems.retryAfterOnSuccess = 3;
    const r = await w.run(["outbound", "send"]);
    expect(r.code).toBe(0);
    expect(r.sleeps).toEqual([3000]);
    expect(patches()).toEqual(["5", "7"]);
  });
});

describe("order and claims (issue 12 item 6)", () => {
  it("a failed older push holds back the newer one of the same work item, not those of other work items", async () => {
    const { sender } = await drain();
    const [assign] = await queue("BACKEND-1", "assignee", "jane.doe@example.com");
    const [status] = await queue("BACKEND-1", "status", "resolved");
    const [other] = await queue("BACKEND-2", "assignee", "bob.smith@example.com");
    w.azure.failNext({ status: 500 }, { match: (q) => q.method === "PATCH" && q.url.pathname.endsWith("/5") });
    const first = await pass(sender);
    expect(first.map((r) => [r.id, r.ok])).toEqual([
      [assign, false],
      [other, true],
    ]);
    expect(await row(status!)).toMatchObject({ state: "pending", attempts: 0 });
    expect(w.azure.requests.filter((q) => q.url.pathname.endsWith("/5"))).toHaveLength(1);
    clock = (await row(assign!)).nextAttemptAt;
    expect((await pass(sender)).map((r) => [r.id, r.ok])).toEqual([
      [assign, true],
      [status, true],
    ]);
    expect(w.workItems.items.get(5)!.fields).toMatchObject({ "System.AssignedTo": "jane.doe@example.com", "System.State": "Closed" });
  });

  it("a row is claimed by one sender only; another takes it over only once the lease has run out", async () => {
    const [a] = await queue("BACKEND-1", "assignee", "jane.doe@example.com");
    const [b] = await queue("BACKEND-2", "assignee", "jane.doe@example.com");
    const other = await openStore(w.db);
    try {
      expect((await claim("one", store))?.id).toBe(a);
      expect((await claim("two", other))?.id).toBe(b);
      expect(await claim("three", other)).toBeUndefined();
      expect(await other.outbox.claim(a!, { by: "two", now: clock, until: clock + LEASE_MS, at: "" })).toBe(false);
      const raw = new Database(w.db, { readonly: true });
      expect(raw.prepare("SELECT id, claimed_by AS by, attempts FROM outbox ORDER BY id").all()).toEqual([
        { id: a, by: "one", attempts: 1 },
        { id: b, by: "two", attempts: 1 },
      ]);
      raw.close();
      clock += LEASE_MS;
      expect((await claim("three", other))?.id).toBe(a);
    } finally {
      await other.close();
    }
  });

  it("7.3 a change queued while the push before it is in flight leaves that push to finish, and is sent after it, never beside it", async () => {
    const [first] = await queue("BACKEND-1", "assignee", "jane.doe@example.com");
    expect((await claim("one"))?.id).toBe(first);
    const [newer] = await queue("BACKEND-1", "assignee", "bob.smith@example.com");
    expect((await row(first!)).state).toBe("pending");
    expect(await claim("two")).toBeUndefined();
    await store.outbox.done(first!, "one", new Date(clock).toISOString());
    expect((await claim("two"))?.id).toBe(newer);
  });

  it("7.3 a push in flight that fails once a newer change of its field came is not tried again, even when that change came from its own tracker", async () => {
    const [first] = await queue("BACKEND-1", "assignee", "jane.doe@example.com");
    await claim("one");
    // Azure DevOps itself now says Bob: Bob is queued for Jira only (no echo), and Jane must not be sent there.
    const queued = await queue("BACKEND-1", "assignee", "bob.smith@example.com", "vsts");
    expect(await Promise.all(queued.map(async (id) => (await row(id)).integration))).toEqual([JIRA_ID]);
    expect(await store.outbox.failed(first!, "one", { error: "HTTP 503", nextAttemptAt: clock + 30_000, giveUpBefore: clock - 1 }, clock, new Date(clock).toISOString())).toBeUndefined();
    expect(await store.outbox.get(first!)).toBeUndefined();
  });

  it("7.3 a push whose sender died with it in flight, outdated since, is not sent when claimed again", async () => {
    const { sender } = await drain();
    const [first] = await queue("BACKEND-1", "assignee", "jane.doe@example.com");
    await claim("died");
    await queue("BACKEND-1", "assignee", "bob.smith@example.com", "vsts");
    clock += LEASE_MS;
    const results = await pass(sender);
    expect(results.find((r) => r.id === first)).toMatchObject({ ok: true, detail: "not sent: a newer change of BACKEND-1's assignee came after it" });
    expect(patches()).toEqual([]);
  });

  it("two senders at once send each row once, in order per work item", async () => {
    const ids = [...(await queue("BACKEND-1", "assignee", "jane.doe@example.com")), ...(await queue("BACKEND-1", "status", "resolved")), ...(await queue("BACKEND-2", "assignee", "bob.smith@example.com"))];
    const one = await drain();
    const two = await drain();
    const results: PushResult[] = [];
    await Promise.all([one, two].map(({ sender }) => sendDue(sender, () => false, (r) => results.push(r))));
    expect(results.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(patches().filter((p) => p === "5")).toHaveLength(2);
    expect(patches().filter((p) => p === "7")).toHaveLength(1);
    expect(w.workItems.items.get(5)!.fields["System.State"]).toBe("Closed");
  });
});

describe("secrets in tracker errors (issue 12 item 7)", () => {
  it("an error body quoting the token, a webhook secret or the Discord webhook URL is cleaned before it is printed or stored", async () => {
    const hook = w.discord.webhook();
    expect((await w.run(["notify", "discord", "--webhook-url-stdin"], { stdin: hook.url })).code).toBe(0);
    const jiraToken = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(`${w.env.HOOKSYNC_CONFIG_DIR}/credentials.json`, "utf8"))).jira[w.jira.url].accessToken as string;
    const secrets = [w.azure.state.pat, jiraToken, hook.url, hook.token, VSTS_SECRET];
    w.azure.failNext({ status: 400, body: { message: `TF401320: rejected ${secrets.join(" and ")}`, typeKey: "RuleValidationException" } });
    const r = await w.run(["assign", "BACKEND-1", "jane.doe@example.com", "--json"]);
    expect(r.stderr).toContain("Azure DevOps refused to assign work item 5 to jane.doe@example.com: TF401320: rejected ***");
    expectNoSecrets(r, secrets);
    const list = await w.run(["outbound", "list", "--json"]);
    expect(JSON.parse(list.stdout).find((o: any) => o.state === "pending").error).toContain("TF401320: rejected ***");
    expectNoSecrets(list, secrets);
  });
});
