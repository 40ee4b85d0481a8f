import { createHash } from "node:crypto";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { signJwt } from "../../src/providers/jira/jwt.js";
import { fixture } from "../helpers.js";
import { backends, failWrites, storeTargets } from "../pg.js";
import { JIRA_ID, JIRA_SECRET, VSTS_ID, VSTS_SECRET, world } from "../world.js";
import { receiver } from "./harness.js";

const stores = storeTargets("receiver_server");

const raw = (name: string) => readFileSync(fixture(name));
const VSTS_UPDATED = raw("vsts-workitem-updated.json");
const JIRA_ASSIGNED = raw("jira-issue-updated-assignee.json");
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const token = (header: unknown, claims: unknown, sign: (input: string) => string) => {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign(input)}`;
};
const hmac = (alg: "sha256" | "sha512", key: string) => (input: string) => createHmac(alg, key).update(input).digest("base64url");
const nowS = () => Math.floor(Date.now() / 1000);

/** One socket speaking raw HTTP, for requests fetch cannot make (a body sent in halves). */
function rawRequest(port: number, head: string) {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  const waiters = new Set<() => void>();
  socket.on("data", (c) => {
    text += c.toString("utf8");
    for (const w of waiters) w();
  });
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.on("error", () => {});
  socket.write(head);
  /** Resolves once the server has answered what contains `part` (with `Expect: 100-continue`, "100 Continue": the server has the request). */
  const seen = (part: string) =>
    new Promise<void>((resolve) => {
      const check = () => text.includes(part) && (waiters.delete(check), resolve());
      waiters.add(check);
      check();
    });
  return { socket, seen, response: async () => (await closed, text) };
}

describe.each(backends)("on %s", (backend) => {
  const freshWorld = async () => world(await stores(backend));

  describe("serve: routes", () => {
    it("answers GET /healthz with ok, 404 elsewhere, 405 for a wrong method, and records only hook routes", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      expect(await r.request("GET", "/healthz")).toMatchObject({ status: 200, body: { ok: true } });
      expect((await r.request("HEAD", "/healthz")).status).toBe(200);
      const post = await r.request("POST", "/healthz", "{}");
      expect(post.status).toBe(405);
      expect(post.headers.get("allow")).toBe("GET, HEAD");
      expect(await r.request("GET", "/nope")).toMatchObject({ status: 404, body: { outcome: null, delivery: null } });
      expect((await r.request("POST", "/hooks/vsts/")).status).toBe(404);
      expect(await r.count("deliveries")).toBe(0);

      const get = await r.request("GET", "/hooks/vsts");
      expect(get.status).toBe(405);
      expect(get.headers.get("allow")).toBe("POST");
      expect(get.body).toMatchObject({ outcome: "rejected", reason: "method GET not allowed", delivery: expect.any(Number) });
      expect(await r.rawDeliveries()).toMatchObject([{ verdict: 405, outcome: "rejected", route: "/hooks/vsts" }]);
    });
    it("answers 404 to a Jira URL under a prefix without printing its token in the log or the reason", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const jwt = signJwt({ id: JIRA_ID }, JIRA_SECRET);
      const paths = [`//hooks/jira/${jwt}`, `/proxy/hooks/jira/${jwt}`, `/x/${jwt.replaceAll(".", "%2E")}`];
      const reasons = [];
      for (const path of paths) {
        const res = await r.request("POST", path, "{}");
        expect(res.status).toBe(404);
        reasons.push(res.body.reason);
      }
      expect(reasons).toEqual(["no route //hooks/jira/<redacted>", "no route /proxy/hooks/jira/<redacted>", "no route /x/<redacted>"]);
      const logged = JSON.stringify(r.logs);
      for (const part of jwt.split(".").slice(1)) expect(logged).not.toContain(part);
    });
  });

  describe("serve: Azure DevOps", () => {
    it("applies a delivery with the right shared-secret, recording it with its changes in the same transaction", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const res = await r.postVsts(VSTS_UPDATED);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ outcome: "applied", reason: null, delivery: expect.any(Number) });
      const id = res.body.delivery;
      expect((await w.issues())["BACKEND-1"]?.assignee).toBe("fabrikamfiber3@hotmail.com");
      const [d] = await r.store.deliveries.list();
      expect(d).toMatchObject({ id, source: "serve", route: "/hooks/vsts", provider: "vsts", integration: VSTS_ID, event: "workitem.updated" });
      expect(d).toMatchObject({ verdict: 200, outcome: "applied" });
      expect(d!.changes).toEqual([{ issue: "BACKEND-1", field: "assignee", from: "fabrikamfiber4@hotmail.com", to: "fabrikamfiber3@hotmail.com" }]);
      expect((await w.activity()).map((a) => [a.source, a.delivery])).toEqual([["serve", id]]);
      expect((await r.rawDeliveries())[0]!.body!.equals(VSTS_UPDATED)).toBe(true);
    });

    it("records and answers a payload quoting U+0000, which PostgreSQL keeps as U+FFFD: never a 503 the tracker would retry forever", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const payload = JSON.parse(VSTS_UPDATED.toString("utf8"));
      payload.eventType = "workitem.updated\u0000x";
      const res = await r.postVsts(Buffer.from(JSON.stringify(payload)));
      expect(res.status).toBe(200);
      const [d] = await r.store.deliveries.list();
      const kept = backend === "postgres" ? "workitem.updated\uFFFDx" : "workitem.updated\u0000x";
      expect(d).toMatchObject({ id: res.body.delivery, event: kept, outcome: "ignored" });
      expect(d!.reason).toContain(kept);
    });

    it("accepts the header name in any case", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      expect((await r.postVsts(VSTS_UPDATED, { "Shared-SECRET": VSTS_SECRET })).status).toBe(200);
    });

    it.each([
      ["a wrong secret", { "shared-secret": "vsts-test-secret-0123456780" }, "wrong shared-secret header"],
      ["a secret one character short", { "shared-secret": VSTS_SECRET.slice(0, -1) }, "wrong shared-secret header"],
      ["an empty secret", { "shared-secret": "" }, "missing shared-secret header"],
      ["no secret", {}, "missing shared-secret header"],
      ["the Jira secret", { "shared-secret": JIRA_SECRET }, "wrong shared-secret header"],
      ["the right secret for an unknown collection id", { "shared-secret": VSTS_SECRET }, "wrong shared-secret header", "0000"],
      ["a wrong secret for an unknown collection id", { "shared-secret": "vsts-test-secret-0123456780" }, "wrong shared-secret header", "0000"],
      ["no secret for an unknown collection id", {}, "missing shared-secret header", "0000"],
    ])("answers 401 to %s and writes nothing but the delivery record", async (_, headers, reason, collection?: string) => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const before = await w.issues();
      const payload = JSON.parse(VSTS_UPDATED.toString());
      if (collection) payload.resourceContainers.collection.id = collection;
      const res = await r.postVsts(JSON.stringify(payload), headers);
      expect(res).toMatchObject({ status: 401, body: { outcome: "rejected", reason } });
      expect(await w.issues()).toEqual(before);
      expect(await r.count("activity")).toBe(0);
      expect(await r.rawDeliveries()).toMatchObject([{ verdict: 401, outcome: "rejected", integrationId: null }]);
      expect((await r.request("GET", "/healthz")).status).toBe(200);
    });

    it("answers 400 to a payload with no collection id (rule 2.1)", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const payload = JSON.parse(VSTS_UPDATED.toString());
      delete payload.resourceContainers.collection;
      expect(await r.postVsts(JSON.stringify(payload))).toMatchObject({ status: 400, body: { outcome: "rejected", reason: "payload has no resourceContainers.collection.id" } });
      expect(await r.count("activity")).toBe(0);
    });

    it("answers 400 to malformed JSON and to a payload the pipeline rejects, and keeps serving", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const bad = await r.postVsts('{"eventType": "workitem.updated",');
      expect(bad.status).toBe(400);
      expect(bad.body.reason).toMatch(/^not valid JSON/);
      const payload = JSON.parse(VSTS_UPDATED.toString());
      delete payload.resource.workItemId;
      delete payload.resource.revision;
      const rejected = await r.postVsts(JSON.stringify(payload));
      expect(rejected).toMatchObject({ status: 400, body: { outcome: "rejected", reason: "payload has no resource.workItemId" } });
      // Authenticated, so the delivery names its integration.
      expect(await r.store.deliveries.get(rejected.body.delivery)).toMatchObject({ integration: VSTS_ID, verdict: 400 });
      expect((await r.postVsts(VSTS_UPDATED)).status).toBe(200);
    });

    it("answers 200 ignored to an event type it does not sync, after checking the secret", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      expect((await r.postVsts(raw("vsts-git-push.json"), { "shared-secret": "x" })).status).toBe(401);
      expect(await r.postVsts(raw("vsts-git-push.json"))).toMatchObject({ status: 200, body: { outcome: "ignored", reason: "event type git.push is not synced" } });
    });
  });

  describe("serve: Jira", () => {
    it("applies a delivery whose URL token is signed with the integration's secret", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const res = await r.postJira(signJwt({ id: JIRA_ID }, JIRA_SECRET), JIRA_ASSIGNED);
      expect(res).toMatchObject({ status: 200, body: { outcome: "applied" } });
      expect((await w.issues())["WEB-1"]?.assignee).toBe("bob.smith@example.com");
      expect((await r.store.deliveries.list())[0]).toMatchObject({ provider: "jira", integration: JIRA_ID, route: "/hooks/jira/<redacted>" });
    });

    const forged: [string, () => string, RegExp][] = [
      ["signed with the wrong key", () => signJwt({ id: JIRA_ID }, "not the secret"), /signature does not verify/],
      ["signed with another integration's secret", () => signJwt({ id: JIRA_ID }, VSTS_SECRET), /signature does not verify/],
      ["with alg none", () => token({ alg: "none", typ: "JWT" }, { id: JIRA_ID }, () => ""), /algorithm "none"/],
      ["with alg none and a valid signature", () => token({ alg: "none" }, { id: JIRA_ID }, hmac("sha256", JIRA_SECRET)), /algorithm "none"/],
      ["swapped to RS256 (HS/RS confusion)", () => token({ alg: "RS256", typ: "JWT" }, { id: JIRA_ID }, hmac("sha256", JIRA_SECRET)), /algorithm "RS256"/],
      ["with HS512", () => token({ alg: "HS512", typ: "JWT" }, { id: JIRA_ID }, hmac("sha512", JIRA_SECRET)), /algorithm "HS512"/],
      ["expired", () => signJwt({ id: JIRA_ID, exp: nowS() - 60 }, JIRA_SECRET), /expired/],
      ["not valid yet", () => signJwt({ id: JIRA_ID, nbf: nowS() + 3600 }, JIRA_SECRET), /not valid yet/],
      ["without an id claim", () => signJwt({ no: JIRA_ID }, JIRA_SECRET), /no id claim/],
      ["for an unknown integration, as a bad signature", () => signJwt({ id: "jira-9" }, JIRA_SECRET), /^token signature does not verify$/],
      ["naming the VSTS integration, as a bad signature", () => signJwt({ id: VSTS_ID }, VSTS_SECRET), /^token signature does not verify$/],
      ["with alg none for an unknown integration", () => token({ alg: "none" }, { id: "jira-9" }, () => ""), /algorithm "none"/],
      ["with claims changed after signing", () => {
        const [h, , s] = signJwt({ id: "jira-other" }, JIRA_SECRET).split(".");
        return `${h}.${b64({ id: JIRA_ID })}.${s}`;
      }, /signature does not verify/],
      ["made of garbage", () => "garbage", /not a JWT/],
      ["with three garbage parts", () => "a.b.c", /not JSON/],
      ["that is a space", () => "%20", /not a JWT/],
      ["that is empty", () => "", /no token/],
    ];

    it.each(forged)("answers 400 to a token %s, applies nothing, and keeps serving", async (_, make, reason) => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const before = await w.issues();
      const res = await r.postJira(make(), JIRA_ASSIGNED);
      expect(res.status).toBe(400);
      expect(res.body.reason).toMatch(reason);
      expect(await w.issues()).toEqual(before);
      expect(await r.count("activity")).toBe(0);
      expect(await r.rawDeliveries()).toMatchObject([{ verdict: 400, outcome: "rejected", integrationId: null, route: "/hooks/jira/<redacted>" }]);
      expect((await r.postJira(signJwt({ id: JIRA_ID }, JIRA_SECRET), JIRA_ASSIGNED)).status).toBe(200);
    });

    it("answers 400 to /hooks/jira without a token and to a malformed body behind a good token", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      expect((await r.request("POST", "/hooks/jira", "{}", { "content-type": "application/json" })).body.reason).toBe("no token in the URL");
      const res = await r.postJira(signJwt({ id: JIRA_ID }, JIRA_SECRET), "{not json");
      expect(res.status).toBe(400);
      expect(res.body.reason).toMatch(/not valid JSON/);
      expect((await r.store.deliveries.get(res.body.delivery))!.integration).toBe(JIRA_ID);
    });
  });

  describe("serve: bodies", () => {
    const padded = (size: number) => {
      const text = VSTS_UPDATED.toString().trimEnd();
      return Buffer.concat([Buffer.from(text), Buffer.alloc(size - Buffer.byteLength(text), 0x20)]);
    };

    it("takes a body of exactly the limit and refuses limit + 1 with 413, declared or streamed", async () => {
      const w = await freshWorld();
      const limit = 8000;
      const r = await receiver(w.db, { bodyLimit: limit });
      expect((await r.postVsts(padded(limit))).status).toBe(200);
      expect(await r.postVsts(padded(limit + 1))).toMatchObject({ status: 413, body: { reason: "body over the limit of 8000 bytes" } });
      const streamed = await fetch(`${r.url}/hooks/vsts`, {
        method: "POST",
        headers: { "content-type": "application/json", "shared-secret": VSTS_SECRET },
        body: (async function* () {
          for (let i = 0; i < 10; i++) yield Buffer.alloc(1000, 0x20);
        })(),
        duplex: "half",
      } as RequestInit);
      expect(streamed.status).toBe(413);
      expect((await r.request("GET", "/healthz")).status).toBe(200);
      expect((await r.rawDeliveries()).map((d) => [d.verdict, d.body === null])).toEqual([
        [200, false],
        [413, true],
        [413, true],
      ]);
    });

    it("refuses a body over the default 1 MiB and stays up", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      expect((await r.postVsts(padded(1024 * 1024 + 1))).status).toBe(413);
      expect((await r.postVsts(padded(1024 * 1024))).status).toBe(200);
    });

    it.each([
      ["application/json", 200],
      ["application/json; charset=utf-8", 200],
      ["Application/JSON; Charset=UTF-8", 200],
      ["application/json;charset=ISO-8859-1", 200],
      ["application/vnd.microsoft.servicehooks+json", 200],
      ["text/plain", 415],
      ["application/x-www-form-urlencoded", 415],
      ["application/jsonx", 415],
      ["", 415],
    ])("content-type %j -> %i", async (type, status) => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const res = await r.request("POST", "/hooks/vsts", VSTS_UPDATED, { "shared-secret": VSTS_SECRET, ...(type ? { "content-type": type } : {}) });
      expect(res.status).toBe(status);
      if (status === 415) {
        expect(res.body.outcome).toBe("rejected");
        expect(await r.count("activity")).toBe(0);
        // Item 3 of the always-on issue: a refused body keeps its first 4 KiB, its size and its hash.
        const [row] = await r.rawDeliveries();
        expect(row!.body!.equals(VSTS_UPDATED.subarray(0, 4096))).toBe(true);
        expect([row!.bodySize, row!.bodySha256]).toEqual([VSTS_UPDATED.length, createHash("sha256").update(VSTS_UPDATED).digest("hex")]);
      }
    });

    it("answers 408 when a body does not arrive within --request-timeout, and records it", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db, { requestTimeout: 300 });
      const c = rawRequest(r.port, "POST /hooks/vsts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
      expect(await c.response()).toMatch(/^HTTP\/1.1 408/);
      await expect.poll(() => r.rawDeliveries()).toMatchObject([{ verdict: 408, outcome: "rejected" }]);
      expect((await r.request("GET", "/healthz")).status).toBe(200);
    });
  });

  describe("serve: order and lookups", () => {
    const hidden = () => {
      const p = JSON.parse(JIRA_ASSIGNED.toString());
      p.issue.fields.assignee.emailAddress = "";
      return JSON.stringify(p);
    };

    it("looks up a hidden Jira assignee email after authentication only, and applies what the lookup found", async () => {
      const w = await freshWorld();
      const asked: string[] = [];
      const r = await receiver(w.db, {}, {
        lookup: async (d, integration) => {
          asked.push(integration.externalId);
          const body = structuredClone((d.body as { value: any }).value);
          body.issue.fields.assignee.emailAddress = "bob.smith@example.com";
          return { ok: true, delivery: { ...d, body: { ok: true, value: body } } };
        },
      });
      expect((await r.postJira(signJwt({ id: JIRA_ID }, "wrong"), hidden())).status).toBe(400);
      expect(asked).toEqual([]);
      expect((await r.postJira(signJwt({ id: JIRA_ID }, JIRA_SECRET), hidden())).body.outcome).toBe("applied");
      expect(asked).toEqual([JIRA_ID]);
      expect((await w.issues())["WEB-1"]?.assignee).toBe("bob.smith@example.com");
      // The delivery keeps the bytes as received, not the enriched copy.
      expect((await r.rawDeliveries())[1]!.body!.toString()).toContain('"emailAddress":""');
    });

    it("commits deliveries in arrival order even when an earlier one waits on a lookup", async () => {
      const w = await freshWorld();
      let looking: () => void;
      const lookingUp = new Promise<void>((resolve) => (looking = resolve));
      const r = await receiver(w.db, {}, {
        lookup: async (d) => {
          looking();
          // The slow lookup is the test's input: the second delivery arrives and is parsed during it.
          await new Promise((resolve) => setTimeout(resolve, 150));
          const body = structuredClone((d.body as { value: any }).value);
          if (body.issue.fields.assignee) body.issue.fields.assignee.emailAddress = "bob.smith@example.com";
          return { ok: true, delivery: { ...d, body: { ok: true, value: body } } };
        },
      });
      const jwt = signJwt({ id: JIRA_ID }, JIRA_SECRET);
      const first = r.postJira(jwt, hidden());
      await lookingUp;
      const second = r.postJira(jwt, raw("jira-issue-updated-unassigned.json"));
      const [a, b] = [(await first).body, (await second).body];
      expect([a.outcome, b.outcome]).toEqual(["applied", "applied"]);
      expect(a.delivery).toBeLessThan(b.delivery);
      expect((await w.issues())["WEB-1"]?.assignee).toBeNull();
    });
  });

  describe("serve: deliveries", () => {
    it("stores headers lowercased with secrets and the URL token redacted, and never logs them", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const jwt = signJwt({ id: JIRA_ID }, JIRA_SECRET);
      await r.postVsts(VSTS_UPDATED, { "Shared-Secret": VSTS_SECRET, Authorization: "Basic dXNlcjpwYXNz", "X-VSS-ActivityId": "abc" });
      await r.postVsts(VSTS_UPDATED, { "shared-secret": "wrong-but-secret-looking" });
      await r.postJira(jwt, JIRA_ASSIGNED, { Cookie: "session=s3cr3t" });
      await r.postJira(`${jwt}x`, JIRA_ASSIGNED);
      const rows = await r.rawDeliveries();
      const headers = JSON.parse(rows[0]!.headers);
      expect(headers).toMatchObject({ "shared-secret": "<redacted>", authorization: "<redacted>", "x-vss-activityid": "abc" });
      expect(Object.keys(headers).every((k) => k === k.toLowerCase())).toBe(true);
      const stored = JSON.stringify(rows.map(({ body: _body, ...rest }) => rest));
      const logged = JSON.stringify(r.logs);
      for (const secret of [VSTS_SECRET, JIRA_SECRET, "dXNlcjpwYXNz", "wrong-but-secret-looking", "s3cr3t", jwt, jwt.split(".")[2]!]) {
        expect(stored).not.toContain(secret);
        expect(logged).not.toContain(secret);
      }
      expect(r.logs.map((l) => [l.method, l.path, l.status, l.outcome])).toEqual([
        ["POST", "/hooks/vsts", 200, "applied"],
        ["POST", "/hooks/vsts", 401, "rejected"],
        ["POST", "/hooks/jira/<redacted>", 200, "applied"],
        ["POST", "/hooks/jira/<redacted>", 400, "rejected"],
      ]);
    });

    it("applies a redelivered Azure DevOps notification once (subscriptionId + notificationId)", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const first = (await r.postVsts(VSTS_UPDATED)).body;
      expect(first.outcome).toBe("applied");
      // Undo the change locally: a second apply would show up as a new change.
      await w.run(["import", "-"], { stdin: JSON.stringify({ issues: [{ id: "BACKEND-1", project: "backend", title: "TypeError in checkout", assignee: "fabrikamfiber4@hotmail.com" }] }) });
      const again = await r.postVsts(VSTS_UPDATED);
      expect(again).toMatchObject({ status: 200, body: { outcome: "ignored", reason: `redelivery of delivery ${first.delivery}` } });
      expect(again.body.delivery).toBeGreaterThan(first.delivery);
      expect((await w.issues())["BACKEND-1"]?.assignee).toBe("fabrikamfiber4@hotmail.com");
      expect(await r.count("activity")).toBe(1);
      // Another notification of the same subscription is a new delivery.
      const next = JSON.parse(VSTS_UPDATED.toString());
      next.notificationId = 22;
      expect((await r.postVsts(JSON.stringify(next))).body.outcome).toBe("applied");
    });

    it("applies a redelivered Jira webhook once (X-Atlassian-Webhook-Identifier)", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const jwt = signJwt({ id: JIRA_ID }, JIRA_SECRET);
      const id = { "X-Atlassian-Webhook-Identifier": "wh-1" };
      const first = (await r.postJira(jwt, JIRA_ASSIGNED, id)).body;
      expect(first.outcome).toBe("applied");
      const unassign = raw("jira-issue-updated-unassigned.json");
      expect((await r.postJira(jwt, unassign, id)).body).toMatchObject({ outcome: "ignored", reason: `redelivery of delivery ${first.delivery}` });
      expect((await w.issues())["WEB-1"]?.assignee).toBe("bob.smith@example.com");
      expect((await r.postJira(jwt, unassign, { "X-Atlassian-Webhook-Identifier": "wh-2" })).body.outcome).toBe("applied");
    });

    it("applies a retry of a delivery that was refused before (only applied ones count)", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      expect((await r.postVsts(VSTS_UPDATED, { "shared-secret": "old" })).status).toBe(401);
      expect((await r.postVsts(VSTS_UPDATED)).body.outcome).toBe("applied");
    });

    it("records every one of many concurrent requests, applying a duplicate once", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const jwt = signJwt({ id: JIRA_ID }, JIRA_SECRET);
      const answers = await Promise.all([
        ...Array.from({ length: 10 }, () => r.postVsts(VSTS_UPDATED)),
        ...Array.from({ length: 10 }, () => r.postJira(jwt, JIRA_ASSIGNED, { "X-Atlassian-Webhook-Identifier": "same" })),
        ...Array.from({ length: 10 }, () => r.postVsts(VSTS_UPDATED, { "shared-secret": "bad" })),
        ...Array.from({ length: 10 }, () => r.request("GET", "/healthz")),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([...Array(30).fill(200), ...Array(10).fill(401)]);
      expect(await r.count("deliveries")).toBe(30);
      const recorded = await r.store.deliveries.list();
      expect(recorded.filter((d) => d.outcome === "applied")).toHaveLength(2);
      expect(recorded.filter((d) => d.reason?.startsWith("redelivery of delivery "))).toHaveLength(18);
      expect(new Set(answers.map((a) => a.body.delivery).filter(Boolean)).size).toBe(30);
    });

    it("answers 503 when the store fails, so the tracker retries", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const repair = await failWrites(r.store.sql, { name: "broken", table: "deliveries", event: "INSERT", message: "disk on fire" });
      const answer = await r.postVsts(VSTS_UPDATED);
      expect(answer.status).toBe(503);
      expect(answer.body.reason).toBe("the store is not available, try again");
      expect(r.errors.map((e) => e.message)).toEqual(["disk on fire"]);
      // Nothing of the delivery was applied, and the receiver serves again once the store is back.
      expect((await w.issues())["BACKEND-1"]?.assignee).toBe("fabrikamfiber4@hotmail.com");
      await repair();
      expect((await r.postVsts(VSTS_UPDATED)).body.outcome).toBe("applied");
    });
  });

  describe("serve: stopping", () => {
    it("records a request whose client left before its body was complete", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const c = rawRequest(r.port, `POST /hooks/vsts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n{"a":`);
      await c.seen("100 Continue");
      c.socket.destroy();
      await expect.poll(() => r.rawDeliveries()).toMatchObject([{ verdict: null, reason: "the client closed the connection before the body was complete" }]);
      expect(r.logs).toMatchObject([{ status: null, outcome: "rejected" }]);
    });

    it("lets a request in flight finish, then stops accepting", async () => {
      const w = await freshWorld();
      const r = await receiver(w.db);
      const body = VSTS_UPDATED.toString();
      const c = rawRequest(
        r.port,
        `POST /hooks/vsts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nShared-Secret: ${VSTS_SECRET}\r\nExpect: 100-continue\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 100)}`,
      );
      await c.seen("100 Continue");
      let stopped = false;
      const closing = r.close().then(() => (stopped = true));
      // Once it refuses new connections it is stopping, and still waits for the request in flight.
      await expect.poll(() => fetch(`${r.url}/healthz`).then(() => "accepting", () => "refusing")).toBe("refusing");
      expect(stopped).toBe(false);
      c.socket.write(body.slice(100));
      const response = await c.response();
      expect(response).toMatch(/^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 200/);
      expect(response.toLowerCase()).toContain("connection: close");
      await closing;
      expect((await w.issues())["BACKEND-1"]?.assignee).toBe("fabrikamfiber3@hotmail.com");
      await expect(fetch(`${r.url}/healthz`)).rejects.toThrow();
    });
  });
});
