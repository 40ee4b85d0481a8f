import { describe, expect, it } from "vitest";
import { fromIssue, issueKey, textJql } from "../../../src/providers/jira/issues.js";
import { loadFixture } from "../../world.js";

describe("issueKey", () => {
  it.each([
    ["PROJ-123", "PROJ-123"],
    [" prja-37 ", "PRJA-37"],
    ["A1_B-9", "A1_B-9"],
    ["P-1", undefined],
    ["1PROJ-2", undefined],
    ["PROJ-", undefined],
    ["PROJ 12", undefined],
    ["checkout", undefined],
  ])("reads %j as %j", (text, key) => {
    expect(issueKey(text)).toBe(key);
  });
});

describe("textJql", () => {
  it.each([
    ["checkout crash", String.raw`text ~ "checkout crash" ORDER BY updated DESC`],
    ["  checkout \n  crash ", String.raw`text ~ "checkout crash" ORDER BY updated DESC`],
    // Jira: a reserved character is preceded by \\ inside the quoted string.
    ["(1+1):2", String.raw`text ~ "\\(1\\+1\\)\\:2" ORDER BY updated DESC`],
    ["a-b && c || !d", String.raw`text ~ "a\\-b \\&\\& c \\|\\| \\!d" ORDER BY updated DESC`],
    ["[x]{y}^~*?", String.raw`text ~ "\\[x\\]\\{y\\}\\^\\~\\*\\?" ORDER BY updated DESC`],
    // A backslash: escaped for the search (\\), each of those for JQL (\\\\).
    ["C:\\temp", String.raw`text ~ "C\\:\\\\temp" ORDER BY updated DESC`],
    // Paired quotes make a phrase; JQL escapes each quote once.
    ['"null pointer" checkout', String.raw`text ~ "\"null pointer\" checkout" ORDER BY updated DESC`],
    // An unpaired quote is searched as a quote, not left to open a phrase.
    ['say "hi', String.raw`text ~ "say \\\"hi" ORDER BY updated DESC`],
  ])("makes %j %s", (text, jql) => {
    expect(textJql(text)).toBe(jql);
  });
});

describe("fromIssue", () => {
  it("maps the reference search response's issue to the neutral shape", () => {
    const [issue] = loadFixture("reference/jira-server-api-issue-search-response.json").issues;
    expect(fromIssue(issue, "http://jira.example.test:8080/jira")).toEqual({
      key: "HSP-1",
      title: "this is a test issue summary",
      status: "",
      assignee: null,
      url: "http://jira.example.test:8080/jira/browse/HSP-1",
    });
  });

  it.each([
    [{ name: "jdoe", emailAddress: "jane.doe@example.com", displayName: "Jane Doe" }, "jane.doe@example.com"],
    [{ name: "hidden", emailAddress: "", displayName: "Hidden Email" }, "Hidden Email"],
    [{ name: "bare" }, "bare"],
    [null, null],
  ])("shows the assignee %j as %j", (assignee, shown) => {
    expect(fromIssue({ key: "P-1", fields: { summary: "s", status: { name: "Open" }, assignee } }, "http://j").assignee).toBe(shown);
  });
});
