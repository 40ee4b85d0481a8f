import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixture } from "../../helpers.js";
import { jira } from "../../../src/providers/jira/parse.js";
import { loadFixture, world } from "../../world.js";

const recorded = fixture("recorded/jira-through-a-logger.ndjson");
const lines = () => readFileSync(recorded, "utf8").trim().split("\n").map((l) => JSON.parse(l));

describe("jira parse reads what the rules read", () => {
  it("accepts a payload whose top-level timestamp a logger rewrote as text, the revision taken from issue.fields.updated", () => {
    const [assigned] = lines();
    const parsed = jira.parse(assigned);
    expect(parsed).toMatchObject({ ok: true, externalKey: "PRJA-37" });
    expect(parsed.ok && parsed.events[0]).toMatchObject({ kind: "assignee", revision: { kind: "time", value: Date.parse("2024-03-05T14:20:33.495Z") } });
  });

  it("never looks into fields no rule uses (changelog.id, a resolution item's ids)", () => {
    const [, resolved] = lines();
    expect(jira.parse(resolved)).toMatchObject({ ok: true, events: [{ kind: "status", to: "10001" }] });
  });

  it("still refuses a status item whose ids are not ids, naming where", () => {
    const body = loadFixture("jira-issue-updated-status-resolved.json");
    body.changelog.items[1].to = { id: "10001" };
    expect(jira.parse(body)).toMatchObject({ ok: false, reason: "changelog.items.1.to: expected (string | number), got Object" });
  });

  it("replays the recorded file: both payloads applied", async () => {
    const w = await world();
    const r = await w.run(["replay", recorded, "--json"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l).outcome)).toEqual(["applied", "applied"]);
  });
});
