import { describe, expect, it } from "vitest";
import { applyOverride, buildFromTemplate, guid, parseOverride, templateEvents } from "../../src/providers/template.js";

const counter = () => {
  let n = 0;
  return (size: number) => Buffer.alloc(size, n++);
};

describe("simulation templates", () => {
  const vars = {
    collectionId: "c",
    orgUrl: "https://dev.azure.com/o/",
    projectId: "p",
    workItemId: 7,
    eventId: "e",
    notificationId: 3,
    now: "2026-01-02T03:04:05.000Z",
    rev: 4,
    previousRev: 3,
    baseUrl: "http://jira",
    issueKey: "K-1",
    issueId: "10001",
    projectKey: "K",
    timestamp: 1,
    updated: "u",
    changelogId: "9",
  };

  it.each([
    ...templateEvents("vsts").map((e) => ["vsts", e] as const),
    ...templateEvents("jira").map((e) => ["jira", e] as const),
  ])("%s %s fills every token, keeping a whole-token number a number", (provider, event) => {
    const payload = buildFromTemplate(provider, event, vars);
    expect(JSON.stringify(payload)).not.toMatch(/\{\{/);
    if (provider === "vsts") expect(payload.notificationId).toBe(3);
    else expect(payload.timestamp).toBe(1);
  });

  it("lists the events it has templates for", () => {
    expect(templateEvents("vsts")).toEqual(["git.pullrequest.created", "git.push", "workitem.commented", "workitem.created", "workitem.updated"]);
    expect(templateEvents("jira")).toEqual(["issue_created", "issue_updated"]);
  });

  it("makes version 4 GUIDs from the injected randomness", () => {
    expect(guid(counter())).toBe("00000000-0000-4000-8000-000000000000");
    expect(guid(() => Buffer.alloc(16, 0xff))).toBe("ffffffff-ffff-4fff-bfff-ffffffffffff");
  });
});

describe("--set overrides", () => {
  it.each([
    ["a.b=1", ["a", "b"], 1],
    ["a=true", ["a"], true],
    ["a=null", ["a"], null],
    ['a={"x":[1]}', ["a"], { x: [1] }],
    ["a=not json", ["a"], "not json"],
    ['a="1"', ["a"], "1"],
    ["a=", ["a"], ""],
    ["a=b=c", ["a"], "b=c"],
    ["fields[System.State].newValue=Closed", ["fields", "System.State", "newValue"], "Closed"],
    ["items[0].to=3", ["items", "0", "to"], 3],
  ])("parses %s", (text, path, value) => {
    expect(parseOverride(text)).toEqual({ text, path, value });
  });

  it.each(["__proto__.x=1", "a.constructor=1", "a[prototype]=1", "a[__proto__]=1"])("refuses %s", (text) => {
    expect(() => parseOverride(text)).toThrow(/is not allowed/);
  });

  it("sets into objects and lists, creating what is missing, and never touches a prototype", () => {
    const target: Record<string, unknown> = { a: { list: [1, 2] }, n: null };
    for (const t of ["a.list[1]=5", "a.list.2=6", "b.c.d=x", "n.m=1", "a.toString=1"]) applyOverride(target, parseOverride(t));
    expect(target).toEqual({ a: { list: [1, 5, 6], toString: 1 }, n: { m: 1 }, b: { c: { d: "x" } } });
    expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString);
    expect(() => applyOverride(target, parseOverride("a.list.9=1"))).toThrow(/a.list is a list of 3/);
    expect(() => applyOverride(target, parseOverride("a.list.x=1"))).toThrow(/a.list is a list of 3/);
    expect(() => applyOverride(target, parseOverride("b.c.d.e=1"))).toThrow(/b.c.d is a string, not an object/);
  });
});
