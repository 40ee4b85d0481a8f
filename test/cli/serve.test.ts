import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Context } from "../../src/cli/context.js";
import { runServe } from "../../src/cli/serve.js";
import { signJwt } from "../../src/providers/jira/jwt.js";
import { fixture, runBin, spawnServe, testDeps } from "../helpers.js";
import { DAY, oldDeliveries } from "../old-deliveries.js";
import { pgUrl, urlFor } from "../pg.js";
import { JIRA_ID, JIRA_SECRET, VSTS_SECRET, world } from "../world.js";

const VSTS_UPDATED = readFileSync(fixture("vsts-workitem-updated.json"));
const JIRA_ASSIGNED = readFileSync(fixture("jira-issue-updated-assignee.json"));
const json = { "content-type": "application/json" };

describe("hooksync serve (built CLI)", () => {
  it("listens on an ephemeral port, applies deliveries, logs one line per request and exits 0 on SIGTERM", async () => {
    const w = await world();
    const s = spawnServe(["--db", w.db, "-v"]);
    const url = await s.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const jwt = signJwt({ id: JIRA_ID }, JIRA_SECRET);
    expect((await fetch(`${url}/hooks/vsts`, { method: "POST", headers: { ...json, "shared-secret": VSTS_SECRET }, body: VSTS_UPDATED })).status).toBe(200);
    expect((await fetch(`${url}/hooks/jira/${jwt}`, { method: "POST", headers: json, body: JIRA_ASSIGNED })).status).toBe(200);
    expect((await fetch(`${url}/hooks/vsts`, { method: "POST", headers: { ...json, "shared-secret": "no" }, body: VSTS_UPDATED })).status).toBe(401);
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    const { stdout, stderr } = s.output();
    expect(stdout).toBe("");
    expect(stderr).toMatch(/POST \/hooks\/vsts 200 applied .*delivery \d+/);
    expect(stderr).toMatch(/POST \/hooks\/jira\/<redacted> 200 applied/);
    expect(stderr).toMatch(/POST \/hooks\/vsts 401 rejected .* wrong shared-secret header/);
    expect(stderr).toMatch(/stopped after 3 requests/);
    for (const secret of [VSTS_SECRET, JIRA_SECRET, jwt]) expect(stdout + stderr).not.toContain(secret);
    expect((await w.issues())["WEB-1"]?.assignee).toBe("bob.smith@example.com");
  });

  it("prunes deliveries older than 30 days by default, before it says it listens, and keeps them all with --retain 0", async () => {
    const w = await world();
    const d = await oldDeliveries(w.db);
    const old = await d.add(new Date(Date.now() - 31 * DAY));
    const young = await d.add(new Date(Date.now() - 29 * DAY));
    for (const [args, left, logged] of [
      [["--retain", "0"], [old, young], false],
      [["-v"], [young], true],
    ] as const) {
      const s = spawnServe(["--db", w.db, ...args]);
      await s.url;
      s.child.kill("SIGTERM");
      expect(await s.exited).toBe(0);
      expect(await d.ids()).toEqual(left);
      expect(s.output().stderr.includes("pruned 1 delivery older than 30d\n")).toBe(logged);
    }
  });

  it("writes JSON log lines on stdout with --json and stops on SIGINT", async () => {
    const w = await world();
    const s = spawnServe(["--db", w.db, "--json"]);
    const url = await s.url;
    await fetch(`${url}/healthz`);
    await fetch(`${url}/hooks/vsts`, { method: "POST", headers: { ...json, "shared-secret": VSTS_SECRET }, body: VSTS_UPDATED });
    s.child.kill("SIGINT");
    expect(await s.exited).toBe(0);
    const lines = s.output().stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toMatchObject([
      { method: "GET", path: "/healthz", status: 200, outcome: null, delivery: null },
      { method: "POST", path: "/hooks/vsts", status: 200, outcome: "applied", reason: null, delivery: expect.any(Number) },
    ]);
    expect(Object.keys(lines[0]).sort()).toEqual(["delivery", "method", "ms", "outcome", "path", "reason", "status", "time"]);
  });
});

describe("hooksync serve on a PostgreSQL store it cannot use (built CLI, issue 13)", () => {
  it("exits 1 with one line naming the store, its password hidden, when nothing listens at the URL: no stack trace", async () => {
    const url = "postgres://postgres:hunter2-secret@127.0.0.1:1/x";
    for (const how of [{ argv: ["--db", url], env: {} }, { argv: [], env: { HOOKSYNC_DB: url } }]) {
      const r = await runBin(["serve", "--port", "0", ...how.argv], { env: how.env });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        "hooksync: the store postgres://postgres:***@127.0.0.1:1/x is unreachable: connect ECONNREFUSED 127.0.0.1:1 (check that PostgreSQL is running and the URL in --db / HOOKSYNC_DB is right)\n",
      );
    }
  });

  it.skipIf(!pgUrl)("exits 1 with one line when the server is there but the database is not", async () => {
    const url = urlFor(pgUrl!, "hooksync_no_such_database");
    const r = await runBin(["serve", "--port", "0", "--db", url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`hooksync: the store ${url} is not usable: database "hooksync_no_such_database" does not exist (check the URL, the database and the user's rights)\n`);
  });
});

describe("hooksync serve (in-process)", () => {
  it("stops when its signal aborts and closes the store", async () => {
    const w = await world();
    const { deps, output } = testDeps();
    const ctx = new Context(deps, { db: w.db });
    const stop = new AbortController();
    const running = runServe(ctx, { host: "127.0.0.1", port: 0, bodyLimit: 4096, requestTimeout: 2000, maxConnections: 64, maxBuffered: 1 << 20, lookupTimeout: 1000, lookupCooldown: 1000 }, stop.signal);
    await expect.poll(() => /listening on (\S+)/.exec(output().stderr)?.[1]).toBeTruthy();
    const url = /listening on (\S+)/.exec(output().stderr)![1]!;
    // The store serve opened (the context's; once closed, the context would open another).
    const store = await ctx.store();
    expect((await fetch(`${url}/hooks/vsts`, { method: "POST", headers: { ...json, "shared-secret": VSTS_SECRET }, body: VSTS_UPDATED })).status).toBe(413);
    stop.abort();
    expect(await running).toEqual({ url, requests: 1 });
    await expect(store.schemaVersion()).rejects.toThrow("The database connection is not open");
  });

  it.each([
    [["--port", "70000"], /--port <port>' argument '70000' is invalid/],
    [["--port", "http"], /must be a whole number from 0 to 65535/],
    [["--body-limit", "0"], /--body-limit/],
    [["--request-timeout", "-5"], /--request-timeout/],
    [["--retain", "5x"], /^hooksync: option '--retain <duration>' argument '5x' is invalid. must be a duration above 0 such as 90m, 12h or 30d, or 0 to keep all \(see 'hooksync serve --help'\)\n$/],
    [["--retain", "-1d"], /--retain/],
  ])("refuses %j with a usage error", async (args, message) => {
    const w = await world();
    const r = await w.run(["serve", ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("says which address is taken, exit 2", async () => {
    const w = await world();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await w.run(["serve", "--port", String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`hooksync: cannot listen on 127.0.0.1:${port}: the address is already in use (choose another --host or --port)\n`);
    } finally {
      taken.close();
    }
  });
});
