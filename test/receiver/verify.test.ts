import { describe, expect, it } from "vitest";
import { redactPath, sameSecret, storedHeaders, verifyJira, verifyVsts } from "../../src/receiver/verify.js";
import { signJwt } from "../../src/providers/jira/jwt.js";
import type { IntegrationRow } from "../../src/store/integrations-repo.js";

const rows: IntegrationRow[] = [
  { id: 1, provider: "vsts", externalId: "coll", name: "c", baseUrl: null, webhookSecret: "vsts-secret" },
  { id: 2, provider: "jira", externalId: "jira", name: "j", baseUrl: null, webhookSecret: "jira-secret" },
];
const find = async (id: string) => rows.find((r) => r.externalId === id);
const body = (id: unknown) => ({ resourceContainers: { collection: { id } } });

describe("verify", () => {
  it("compares secrets of any length", () => {
    expect(sameSecret("abc", "abc")).toBe(true);
    expect(sameSecret("abc", "abd")).toBe(false);
    expect(sameSecret("abc", "abcd")).toBe(false);
    expect(sameSecret("", "abc")).toBe(false);
  });

  it("needs a collection id (400), then the integration's secret (401)", async () => {
    expect(await verifyVsts(body("coll"), "vsts-secret", find)).toEqual({ ok: true, integration: rows[0] });
    expect(await verifyVsts(body("coll"), "jira-secret", find)).toEqual({ ok: false, status: 401, reason: "wrong shared-secret header" });
    expect(await verifyVsts(body("coll"), undefined, find)).toEqual({ ok: false, status: 401, reason: "missing shared-secret header" });
    expect(await verifyVsts(body(5), "vsts-secret", find)).toMatchObject({ ok: false, status: 400, reason: "payload has no resourceContainers.collection.id" });
    expect(await verifyVsts([], "vsts-secret", find)).toMatchObject({ ok: false, status: 400 });
  });

  it("refuses an unknown collection id exactly as a wrong secret, so it does not tell which ids exist", async () => {
    for (const secret of ["jira-secret", "vsts-secret", "", undefined]) {
      expect(await verifyVsts(body("nope"), secret, find)).toEqual(await verifyVsts(body("coll"), secret === "vsts-secret" ? "wrong" : secret, find));
      // A Jira integration's id is no Azure DevOps id, even with that integration's secret.
      expect(await verifyVsts(body("jira"), secret, find)).toEqual(await verifyVsts(body("coll"), secret === "vsts-secret" ? "wrong" : secret, find));
    }
  });

  it("verifies a Jira token with the secret of the integration it names", async () => {
    expect(await verifyJira(signJwt({ id: "jira" }, "jira-secret"), Date.now(), find)).toEqual({ ok: true, integration: rows[1] });
    expect(await verifyJira(signJwt({ id: 1 }, "jira-secret"), Date.now(), find)).toMatchObject({ reason: "token has no id claim" });
  });

  it("refuses a Jira token naming an unknown id exactly as one signed with a wrong key, so it does not tell which ids exist", async () => {
    const unsigned = (id: string) => `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ id })).toString("base64url")}.`;
    const wrongKey = await verifyJira(signJwt({ id: "jira" }, "wrong"), Date.now(), find);
    expect(wrongKey).toEqual({ ok: false, status: 400, reason: "token signature does not verify" });
    for (const id of ["nope", "coll"]) {
      expect(await verifyJira(signJwt({ id }, "wrong"), Date.now(), find)).toEqual(wrongKey);
      expect(await verifyJira(signJwt({ id }, "vsts-secret"), Date.now(), find)).toEqual(wrongKey);
      expect(await verifyJira(signJwt({ id, exp: 1 }, "wrong"), Date.now(), find)).toEqual(wrongKey);
      expect(await verifyJira(unsigned(id), Date.now(), find)).toEqual(await verifyJira(unsigned("jira"), Date.now(), find));
    }
  });

  it("stores headers lowercased with secrets redacted", () => {
    expect(storedHeaders({ "shared-secret": "x", authorization: "Basic y", cookie: "c", "x-multi": ["a", "b"], host: "h" })).toEqual({
      "shared-secret": "<redacted>",
      authorization: "<redacted>",
      cookie: "<redacted>",
      "x-multi": "a, b",
      host: "h",
    });
    expect(redactPath("/hooks/jira/eyJ.eyJ.sig")).toBe("/hooks/jira/<redacted>");
    expect(redactPath("/hooks/vsts")).toBe("/hooks/vsts");
  });

  describe("redactPath", () => {
    const jwt = signJwt({ id: "jira" }, "jira-secret");
    const parts = jwt.split(".");
    const every = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join("");

    it.each([
      ["a doubled slash", `//hooks/jira/${jwt}`, "//hooks/jira/<redacted>"],
      ["a proxy's prefix", `/proxy/hooks/jira/${jwt}`, "/proxy/hooks/jira/<redacted>"],
      ["another hook route", `/hooks/vsts/${jwt}`, "/hooks/vsts/<redacted>"],
      ["a path of its own", `/${jwt}/more`, "/<redacted>/more"],
      ["text around it in a segment", `/a/x;token=${jwt}`, "/a/<redacted>"],
      ["its dots percent-encoded", `/a/${jwt.replaceAll(".", "%2E")}`, "/a/<redacted>"],
      ["every character percent-encoded", `/a/${every(jwt)}`, "/a/<redacted>"],
      ["its dots encoded twice", `/a/${jwt.replaceAll(".", "%252e")}`, "/a/<redacted>"],
      ["an empty signature", `/a/${parts[0]}.${parts[1]}.`, "/a/<redacted>"],
    ])("leaves nothing of a JWT behind %s", (_, path, shown) => {
      const out = redactPath(path);
      expect(out).toBe(shown);
      for (const part of parts) expect(out).not.toContain(part.slice(0, 8));
    });

    it("hides whatever follows hooks/jira/ under a prefix, even a malformed token", () => {
      expect(redactPath("//hooks/jira/not-a-jwt/x")).toBe("//hooks/jira/<redacted>");
      expect(redactPath("/p/hooks/%6Aira/not-a-jwt")).toBe("/p/hooks/%6Aira/<redacted>");
    });

    it("leaves paths without a token as they are", () => {
      for (const path of ["/hooks/vsts", "/hooks/jira", "/healthz", "/nope", "/a/b.json", "/%zz", "/"]) expect(redactPath(path)).toBe(path);
    });
  });
});
