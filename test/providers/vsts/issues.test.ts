import { describe, expect, it } from "vitest";
import { searchBaseUrl } from "../../../src/providers/vsts/client.js";
import { fromWorkItem, person, titleQuery, workItemId } from "../../../src/providers/vsts/issues.js";
import { loadFixture } from "../../world.js";

describe("workItemId", () => {
  it.each([
    ["42", 42],
    [" 007 ", 7],
    ["2147483647", 2147483647],
    ["0", undefined],
    ["2147483648", undefined],
    ["12a", undefined],
    ["-3", undefined],
    ["", undefined],
  ])("reads %j as %j", (text, id) => {
    expect(workItemId(text)).toBe(id);
  });
});

describe("titleQuery", () => {
  it("doubles single quotes, the only escape a WIQL string has", () => {
    expect(titleQuery("user's cart")).toBe(
      "SELECT [System.Id] FROM WorkItems WHERE [System.Title] CONTAINS 'user''s cart' ORDER BY [System.ChangedDate] DESC",
    );
  });
});

describe("searchBaseUrl", () => {
  it.each([
    ["https://dev.azure.com/fabrikam", "https://almsearch.dev.azure.com/fabrikam"],
    ["https://dev.azure.com/fabrikam/", "https://almsearch.dev.azure.com/fabrikam"],
    ["https://fabrikam.visualstudio.com", "https://fabrikam.almsearch.visualstudio.com"],
    ["https://fabrikam.visualstudio.com/DefaultCollection", "https://fabrikam.almsearch.visualstudio.com/DefaultCollection"],
    ["https://tfs.corp:8080/tfs/DefaultCollection", "https://tfs.corp:8080/tfs/DefaultCollection"],
    ["http://127.0.0.1:4321/fabrikam", "http://127.0.0.1:4321/fabrikam"],
  ])("serves %s's search from %s", (base, search) => {
    expect(searchBaseUrl(base)).toBe(search);
  });
});

describe("person", () => {
  it.each([
    ["Jane Doe <jane@example.com>", "jane@example.com"],
    ["jane@example.com", "jane@example.com"],
    ["Jane Doe", "Jane Doe"],
    ["", null],
    [null, null],
    [{ displayName: "Jane Doe", uniqueName: "jane@example.com" }, "jane@example.com"],
    [{ displayName: "Jane Doe", uniqueName: "CORP\\jdoe" }, "Jane Doe"],
    [{ displayName: "Jane Doe <jane@corp.example>", uniqueName: "CORP\\jdoe" }, "jane@corp.example"],
    [{ uniqueName: "CORP\\jdoe" }, "CORP\\jdoe"],
  ])("makes %j %j", (identity, shown) => {
    expect(person(identity)).toBe(shown);
  });
});

describe("fromWorkItem", () => {
  it("maps the reference response (identities as strings, api-version 1.0) to the neutral shape", () => {
    expect(fromWorkItem(loadFixture("reference/vsts-api-get-workitem-response.json"), "https://dev.azure.com/fabrikam")).toEqual({
      key: "309",
      title: "Hello",
      status: "New",
      assignee: null,
      url: "https://dev.azure.com/fabrikam/_workitems/edit/309",
    });
  });
});
