import { describe, expect, it } from "vitest";
import { loadFixture, world } from "../world.js";

describe("activity", () => {
  it("filters by issue, keeps the newest with --limit, newest last", async () => {
    const w = await world();
    await w.replayOne(loadFixture("jira-issue-updated-assignee-from-unassigned.json"));
    await w.replayOne(loadFixture("jira-issue-updated-unassigned.json"));
    const all = JSON.parse((await w.run(["activity", "--issue", "WEB-1", "--json"])).stdout);
    expect(all.map((a: { kind: string }) => a.kind)).toEqual(["assigned", "unassigned"]);
    const last = JSON.parse((await w.run(["activity", "--issue", "WEB-1", "--limit", "1", "--json"])).stdout);
    expect(last.map((a: { kind: string }) => a.kind)).toEqual(["unassigned"]);
  });

  it("names an unknown issue as a usage error", async () => {
    const w = await world();
    const r = await w.run(["activity", "--issue", "NOPE-1"]);
    expect(r).toMatchObject({ code: 2, stderr: "hooksync: no issue NOPE-1 (see 'hooksync issue list')\n" });
  });
});
