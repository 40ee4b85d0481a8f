import { statSync } from "node:fs";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AzureDevOpsFake, startAzureDevOps, throttled, vssError } from "../fakes/azure-devops.js";
import { main } from "../../src/cli/main.js";
import { run, tempDir, testDeps } from "../helpers.js";
import { VSTS_ID, VSTS_SECRET, expectNoSecrets, trackerStore } from "../world.js";

const PAT = "test-pat-0123456789";
const URL_BASE = "https://hooksync.example.com";
const env = { AZURE_DEVOPS_EXT_PAT: PAT };

let az: AzureDevOpsFake;
let dir: ReturnType<typeof tempDir>;
let db: string;

beforeAll(async () => {
  az = await startAzureDevOps({ pat: PAT });
});
afterAll(() => az.close());
beforeEach(async () => {
  az.state.subscriptions.clear();
  az.state.notifications.length = 0;
  az.reset();
  dir = tempDir();
  db = await trackerStore(dir.path, { vsts: az.url });
});
afterEach(() => dir.cleanup());

const subscribe = (...extra: string[]) => run(["subscribe", "vsts", "--integration", VSTS_ID, "--url", URL_BASE, "--db", db, ...extra], { env });

describe("subscribe vsts", () => {
  it("creates one subscription carrying the secret header, with api-version 7.1 and the PAT", async () => {
    const r = await subscribe("--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [sub] = [...az.state.subscriptions.values()];
    expect(sub).toMatchObject({
      publisherId: "tfs",
      eventType: "workitem.updated",
      resourceVersion: "1.0",
      consumerId: "webHooks",
      consumerActionId: "httpRequest",
      consumerInputs: { url: `${URL_BASE}/hooks/vsts`, httpHeaders: `shared-secret:${VSTS_SECRET}`, resourceDetailsToSend: "all" },
    });
    const post = az.requests.find((q) => q.method === "POST")!;
    expect(post.url.searchParams.get("api-version")).toBe("7.1");
    expect(post.headers.authorization).toBe(`Basic ${Buffer.from(`:${PAT}`).toString("base64")}`);
    const out = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(out).toEqual([expect.objectContaining({ id: sub!.id, action: "created", status: "enabled", eventType: "workitem.updated" })]);
    expect((out[0]!.consumerInputs as Record<string, string>).httpHeaders).toBe("********");
    expectNoSecrets(r, [VSTS_SECRET, PAT]);
  });

  it("is idempotent: a second run keeps the subscription and creates nothing", async () => {
    await subscribe();
    const r = await subscribe();
    expect(r.code).toBe(0);
    expect(az.state.subscriptions.size).toBe(1);
    expect(r.stdout).toMatch(/^kept [0-9a-f-]{36} {2}workitem\.updated -> https:\/\/hooksync\.example\.com\/hooks\/vsts \(enabled\)\n$/);
    expect(az.requests.filter((q) => q.method === "POST" || q.method === "PUT")).toHaveLength(1);
  });

  it("reuses a subscription it did not record when the URL matches, and replaces its secret (masked, so unknown)", async () => {
    await subscribe();
    const [id] = [...az.state.subscriptions.keys()];
    await run(["--db", db, "unsubscribe", "vsts", "--subscription", id!, "--dry-run"], { env });
    // Someone else's copy of the store: nothing recorded, the secret behind the mask unknown.
    const other = await trackerStore(tempDir().path, { vsts: az.url });
    const r = await run(["subscribe", "vsts", "--url", URL_BASE, "--db", other, "--json"], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ id, action: "updated" })]);
    expect(az.state.subscriptions.size).toBe(1);
    expect(az.state.subscriptions.get(id!)!.consumerInputs.httpHeaders).toBe(`shared-secret:${VSTS_SECRET}`);
  });

  it("updates the secret header when the integration's secret changed", async () => {
    await subscribe();
    const [sub] = [...az.state.subscriptions.values()];
    sub!.consumerInputs.httpHeaders = "shared-secret:old";
    az.state.maskSecrets = false;
    try {
      const r = await subscribe("--json");
      expect(JSON.parse(r.stdout)[0].action).toBe("updated");
      expect(sub!.id).toBe(JSON.parse(r.stdout)[0].id);
      expect(az.state.subscriptions.get(sub!.id)!.consumerInputs.httpHeaders).toBe(`shared-secret:${VSTS_SECRET}`);
      expect(JSON.parse(r.stdout)[0].consumerInputs.httpHeaders).toBe("********");
    } finally {
      az.state.maskSecrets = true;
    }
  });

  it("creates one subscription per --event and restricts them to --project", async () => {
    const r = await subscribe("--event", "workitem.updated", "workitem.created", "--project", "be9b3917-87e6-42a4-a549-2bc06a7a878f", "--json");
    expect(r.code).toBe(0);
    const subs = [...az.state.subscriptions.values()];
    expect(subs.map((s) => s.eventType).sort()).toEqual(["workitem.created", "workitem.updated"]);
    for (const s of subs) expect(s.publisherInputs.projectId).toBe("be9b3917-87e6-42a4-a549-2bc06a7a878f");
  });

  it("--dry-run prints what it would create and changes nothing", async () => {
    const r = await subscribe("--dry-run");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`would create (new)  workitem.updated -> ${URL_BASE}/hooks/vsts\n`);
    expect(r.stderr).toContain("dry run: nothing was changed");
    expect(az.state.subscriptions.size).toBe(0);
  });

  it("records the subscription ids on the integration", async () => {
    await subscribe();
    const r = await run(["subscriptions", "vsts", "--db", db, "--json"], { env });
    const listed = JSON.parse(r.stdout) as { id: string }[];
    expect(listed.map((s) => s.id)).toEqual([...az.state.subscriptions.keys()]);
    expect(statSync(db).mode & 0o777).toBe(0o600);
  });

  it("reads the PAT from stdin with --pat-stdin", async () => {
    const r = await run(["subscribe", "vsts", "--url", URL_BASE, "--db", db, "--pat-stdin"], { stdin: `${PAT}\n` });
    expect(r.code).toBe(0);
    expect(az.state.subscriptions.size).toBe(1);
  });

  it("on a terminal asks for the PAT without echoing it", async () => {
    const stdin = new PassThrough();
    const { deps, output, prompted } = testDeps({ tty: true, stdin });
    const done = main(["subscribe", "vsts", "--url", URL_BASE, "--db", db], deps);
    await prompted("personal access token");
    stdin.write(`${PAT}\r`);
    expect(await done).toBe(0);
    expect(az.state.subscriptions.size).toBe(1);
    expectNoSecrets(output(), [PAT]);
  });

  it("without a PAT and without a TTY exits 2 naming AZURE_DEVOPS_EXT_PAT", async () => {
    const r = await run(["subscribe", "vsts", "--url", URL_BASE, "--db", db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hooksync: Azure DevOps personal access token: no terminal to ask on (supply it with AZURE_DEVOPS_EXT_PAT or --pat-stdin)\n");
  });

  it("without --url exits 2 naming it", async () => {
    const r = await run(["subscribe", "vsts", "--db", db], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--url");
  });

  it("answers a refused token with exit 4 and what to check, never the token", async () => {
    const r = await run(["subscribe", "vsts", "--url", URL_BASE, "--db", db, "-v"], { env: { AZURE_DEVOPS_EXT_PAT: "wrong-token-xyz" } });
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split("\n").at(-1)).toBe(
      "hooksync: the token was refused (HTTP 401 on list subscriptions) (a personal access token (AZURE_DEVOPS_EXT_PAT, --pat-stdin) needs the scopes Service Hooks: read & write, this organization, and not to have expired; an Entra ID token (AZURE_DEVOPS_TOKEN, --token-stdin, --az-token) needs the scope 499b84ac-1321-427f-aa17-267ca6975798/.default, a user of this organization, and lasts about an hour)",
    );
    expectNoSecrets(r, ["wrong-token-xyz", Buffer.from(":wrong-token-xyz").toString("base64")]);
  });

  it("answers 403 with exit 4 and the permission it needs", async () => {
    az.failNext({ status: 403, body: { message: "TF400813: The user is not authorized to access this resource." } });
    const r = await subscribe();
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("Edit subscriptions");
    expect(r.stderr).toContain("TF400813");
  });

  it("answers an unknown organization with exit 1 and 'no such organization or project'", async () => {
    const other = await trackerStore(tempDir().path, { vsts: `${az.origin}/nope` });
    const r = await run(["subscribe", "vsts", "--url", URL_BASE, "--db", other], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hooksync: no such organization or project \(HTTP 404 on list subscriptions\): VS800075.*\(check the integration's baseUrl/);
  });

  it("shows Azure DevOps' own words for a refused body", async () => {
    az.failNext(vssError(400, "SubscriptionInputException", "VS1000000: Input 'url' is required."), { match: (q) => q.method === "POST" });
    const r = await subscribe();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Azure DevOps refused create a subscription (HTTP 400): VS1000000: Input 'url' is required.");
  });

  it("a 2xx sign-in page is a refused token (exit 4)", async () => {
    az.failNext({ status: 203, headers: { "content-type": "text/html" }, body: "<html>Sign In</html>" });
    const r = await subscribe();
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("sign-in page");
  });

  it("waits out a 429's Retry-After, then succeeds", async () => {
    az.failNext(throttled(3));
    const r = await subscribe();
    expect(r.code).toBe(0);
    expect(r.sleeps).toEqual([3000]);
    expect(az.state.subscriptions.size).toBe(1);
  });

  it("retries a 500 never (it is not 502/503/504) and stops a 503 storm after 4 attempts", async () => {
    az.failNext({ status: 500, body: "boom" });
    const r1 = await subscribe();
    expect(r1.code).toBe(1);
    expect(r1.stderr).toBe("hooksync: Azure DevOps failed (HTTP 500 on list subscriptions): boom (the server is having trouble; try again later)\n");
    az.requests.length = 0;
    az.failNext({ status: 503 }, { times: 100 });
    const r2 = await subscribe();
    expect(r2.code).toBe(1);
    expect(az.requests).toHaveLength(4);
    expect(r2.sleeps).toHaveLength(3);
    expect(r2.stderr).toContain("gave up after 4 attempts");
  });

  it("survives a dropped connection and a slow answer within the bound", async () => {
    az.failNext({ drop: true });
    az.failNext({ delayMs: 1500 });
    const r = await subscribe("--timeout", "0.5");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.sleeps).toHaveLength(2);
  });

  it("never retries a create that may have reached the server", async () => {
    az.failNext({ drop: true }, { match: (q) => q.method === "POST" });
    const r = await subscribe();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hooksync: the connection to 127\.0\.0\.1:\d+ was dropped \(create a subscription\)/);
    expect(az.requests.filter((q) => q.method === "POST")).toHaveLength(1);
  });

  it("logs method, URL, status and attempt with -v, and no secret", async () => {
    az.failNext({ status: 502 });
    const r = await subscribe("-v");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/fabrikam\/_apis\/hooks\/subscriptions\?publisherId=tfs.*api-version=7\.1 -> 502 \(attempt 1, \d+ ms\)/);
    expect(r.stderr).toMatch(/-> 200 \(attempt 2, \d+ ms\)/);
    expectNoSecrets(r, [VSTS_SECRET, PAT, Buffer.from(`:${PAT}`).toString("base64")]);
  });
});

describe("subscriptions vsts", () => {
  it("lists hooksync's subscriptions with their state, and not the organization's others", async () => {
    await subscribe();
    az.state.subscriptions.set("someone-else", {
      ...[...az.state.subscriptions.values()][0]!,
      id: "someone-else",
      consumerInputs: { url: "https://ci.example.com/hook" },
    });
    [...az.state.subscriptions.values()][0]!.status = "disabledBySystem";
    const r = await run(["subscriptions", "vsts", "--db", db], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ID +EVENT +STATE +PROJECT +URL\n[0-9a-f-]{36} +workitem\.updated +disabledBySystem +all projects +https:\/\/hooksync\.example\.com\/hooks\/vsts\n$/);
  });

  it("notes recorded subscriptions that Azure DevOps no longer has", async () => {
    await subscribe();
    const [id] = [...az.state.subscriptions.keys()];
    az.state.subscriptions.clear();
    const r = await run(["subscriptions", "vsts", "--db", db, "--json"], { env });
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.stderr).toContain(`note: ${id} was recorded by hooksync but Azure DevOps no longer has it`);
  });

  it("--test asks Azure DevOps for a test notification (preview api-version)", async () => {
    await subscribe();
    const [id] = [...az.state.subscriptions.keys()];
    const r = await run(["subscriptions", "vsts", "--db", db, "--test", id!, "--json"], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 1, subscriptionId: id, status: "queued" });
    expect(az.requests.at(-1)!.url.searchParams.get("api-version")).toBe("7.1-preview.1");
  });
});

describe("unsubscribe vsts", () => {
  it("deletes hooksync's subscriptions and nothing else", async () => {
    await subscribe("--event", "workitem.updated", "workitem.created");
    az.state.subscriptions.set("someone-else", { ...[...az.state.subscriptions.values()][0]!, id: "someone-else", consumerInputs: { url: "https://ci.example.com/hook" } });
    const r = await run(["unsubscribe", "vsts", "--db", db, "--json"], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(2);
    expect([...az.state.subscriptions.keys()]).toEqual(["someone-else"]);
    const again = await run(["subscriptions", "vsts", "--db", db, "--json"], { env });
    expect(again.stderr).toBe("");
  });

  it("refuses an id that is not hooksync's (exit 2)", async () => {
    az.state.subscriptions.set("someone-else", {
      id: "someone-else",
      publisherId: "tfs",
      eventType: "workitem.updated",
      resourceVersion: "1.0",
      consumerId: "webHooks",
      consumerActionId: "httpRequest",
      publisherInputs: {},
      consumerInputs: { url: "https://ci.example.com/hook" },
      status: "enabled",
      createdDate: "",
      modifiedDate: "",
    });
    const r = await run(["unsubscribe", "vsts", "--db", db, "--subscription", "someone-else"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("someone-else is not one of hooksync's subscriptions on Azure DevOps");
    expect(az.state.subscriptions.has("someone-else")).toBe(true);
  });

  it("deletes one by id and says so when it was already gone", async () => {
    await subscribe();
    const [id] = [...az.state.subscriptions.keys()];
    az.failNext(vssError(404, "SubscriptionNotFoundException", `Subscription ${id} could not be found.`), { match: (q) => q.method === "DELETE" });
    const r = await run(["unsubscribe", "vsts", "--db", db, "--subscription", id!], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`already gone ${id}  workitem.updated -> ${URL_BASE}/hooks/vsts\n`);
  });
});
