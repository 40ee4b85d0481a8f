import { describe, expect, it } from "vitest";
import { jiraRevision, jiraTime } from "../../../src/providers/jira/revision.js";

describe("Jira revisions (behaviour.md 10.1)", () => {
  it("10.1 reads Jira's times with their RFC 822 offsets, to the millisecond", () => {
    expect(jiraTime("2017-12-25T16:33:21.396+0000")).toBe(Date.parse("2017-12-25T16:33:21.396Z"));
    expect(jiraTime("2017-12-25T16:33:21.396-0530")).toBe(Date.parse("2017-12-25T22:03:21.396Z"));
    expect(jiraTime("2017-12-25T16:33:21.396+05:30")).toBe(Date.parse("2017-12-25T11:03:21.396Z"));
    expect(jiraTime("2017-12-25T16:33:21Z")).toBe(Date.parse("2017-12-25T16:33:21.000Z"));
    expect(jiraTime("2017-12-25T16:33:21.3969+0000")).toBe(Date.parse("2017-12-25T16:33:21.396Z"));
    expect(jiraTime("2024-02-29T00:00:00.000+0000")).toBe(Date.parse("2024-02-29T00:00:00.000Z"));
  });

  it("10.1 takes no time that is not one: no day 30 in February, no hour 24, no offset, no 2-digit year", () => {
    for (const text of ["2017-02-30T10:00:00.000+0000", "2017-12-25T24:00:00.000+0000", "2017-12-25T16:33:21.396", "0017-12-25T16:33:21.396+0000", "2017-12-25 16:33:21.396+0000", "yesterday", ""]) {
      expect(jiraTime(text), text).toBeNull();
    }
  });

  it("10.1 prefers the payload's timestamp, then issue.fields.updated, else no revision", () => {
    const body = { issue: { fields: { updated: "2017-12-25T16:33:21.396+0000" } } };
    expect(jiraRevision(1_514_219_601_000, body)).toEqual({ kind: "time", value: 1_514_219_601_000 });
    expect(jiraRevision(undefined, body)).toEqual({ kind: "time", value: Date.parse("2017-12-25T16:33:21.396Z") });
    expect(jiraRevision(1.5, { issue: { fields: { updated: 3 } } })).toBeNull();
    expect(jiraRevision(undefined, { issue: null })).toBeNull();
  });
});
