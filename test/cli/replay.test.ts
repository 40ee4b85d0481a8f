import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, ndjson } from "../helpers.js";
import { VSTS_ID, loadFixture, world } from "../world.js";

const OUTCOME_KEYS = ["source", "provider", "event", "integration", "outcome", "reason", "changes", "notes"];

describe("replay", () => {
  it("prints one NDJSON line per payload with the fields of cli.md", async () => {
    const w = await world();
    const r = await w.run(["replay", fixture("vsts-workitem-updated.json"), fixture("vsts-git-push.json"), "--json"]);
    expect(r.code).toBe(0);
    const lines = ndjson(r.stdout);
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(Object.keys(l)).toEqual(OUTCOME_KEYS);
    // The issue's row id the engine hands the outbox is not part of the contract.
    expect((lines[0]!.changes as object[]).map(Object.keys)).toEqual([["issue", "field", "from", "to"]]);
    expect(lines[0]).toMatchObject({ source: fixture("vsts-workitem-updated.json"), outcome: "applied", reason: null });
    expect(r.stderr).toMatch(/2 payloads: 1 applied, 1 ignored, 0 rejected; 1 change in/);
  });

  it("reads a directory's .json and .ndjson files sorted by name, and nothing else", async () => {
    const w = await world();
    const dir = join(w.dir, "in");
    mkdirSync(dir);
    writeFileSync(join(dir, "b.ndjson"), [loadFixture("jira-issue-updated-assignee.json"), loadFixture("jira-issue-updated-unassigned.json")].map((p) => JSON.stringify(p)).join("\n"));
    writeFileSync(join(dir, "a.json"), JSON.stringify(loadFixture("vsts-workitem-updated.json"), null, 2));
    writeFileSync(join(dir, "notes.txt"), "not a payload");
    const r = await w.run(["replay", dir, "--json"]);
    expect(ndjson(r.stdout).map((l) => l.source)).toEqual([join(dir, "a.json"), join(dir, "b.ndjson:1"), join(dir, "b.ndjson:2")]);
  });

  it("reports a dangling symbolic link, a link loop and a name that is not UTF-8 in a directory as rejected inputs, replays the rest, and exits 1", async () => {
    const w = await world();
    const dir = join(w.dir, "in");
    mkdirSync(dir);
    writeFileSync(join(dir, "a.json"), JSON.stringify(loadFixture("vsts-workitem-updated.json")));
    // Linux allows any bytes in a name: only a Buffer path can make (and find) this one.
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from(".json")]), "{}");
    symlinkSync("no-such-target.json", join(dir, "dangling.json"));
    symlinkSync("loop.json", join(dir, "loop.json"));
    writeFileSync(join(dir, "z.json"), JSON.stringify(loadFixture("vsts-git-push.json")));
    const r = await w.run(["replay", dir, "--json"]);
    expect(r.code).toBe(1);
    expect(ndjson(r.stdout).map((l) => [l.source, l.outcome, l.reason])).toEqual([
      [join(dir, "a.json"), "applied", null],
      [join(dir, "bad-\\xff\\xfe.json"), "rejected", "file name is not valid UTF-8 (rename it to replay it)"],
      [join(dir, "dangling.json"), "rejected", "dangling symbolic link: its target does not exist"],
      [join(dir, "loop.json"), "rejected", "symbolic link loop"],
      [join(dir, "z.json"), "ignored", "event type git.push is not synced"],
    ]);
    expect(r.stderr).toMatch(/^5 payloads: 1 applied, 1 ignored, 3 rejected;/m);
    expect(r.stderr).toMatch(/^hooksync: 3 of 5 payloads were rejected \(each has its reason above\)$/m);
    expect(r.stderr).not.toMatch(/bug/);
  });

  it("reads a JSON array of payloads and envelopes", async () => {
    const w = await world();
    const file = join(w.dir, "arr.json");
    writeFileSync(file, JSON.stringify([loadFixture("vsts-workitem-updated.json"), { provider: "jira", integration: "jira-1", headers: {}, body: loadFixture("jira-issue-updated-assignee.json") }]));
    const r = await w.run(["replay", file, "--json"]);
    expect(ndjson(r.stdout).map((l) => [l.source, l.provider, l.outcome])).toEqual([
      [`${file}:0`, "vsts", "applied"],
      [`${file}:1`, "jira", "applied"],
    ]);
  });

  it("rolls everything back with --dry-run but reports the changes", async () => {
    const w = await world();
    const r = await w.run(["replay", fixture("vsts-workitem-updated.json"), "--dry-run", "--json"]);
    expect(ndjson(r.stdout)[0]).toMatchObject({ outcome: "applied", changes: [{ issue: "BACKEND-1" }] });
    expect(r.stderr).toMatch(/^dry run, nothing written/m);
    expect((await w.issues())["BACKEND-1"]!.assignee).toBe("fabrikamfiber4@hotmail.com");
    expect(await w.activity()).toEqual([]);
  });

  it("judges every payload of a --dry-run against the store as it is, not against the ones before it", async () => {
    const w = await world();
    const r = await w.replay([loadFixture("vsts-workitem-updated.json"), loadFixture("vsts-workitem-updated.json")], ["--dry-run"]);
    expect(r.outcomes.map((o) => o.outcome)).toEqual(["applied", "applied"]);
    expect(await w.activity()).toEqual([]);
  });

  it("exits 1 when any payload is rejected, after processing all of them", async () => {
    const w = await world();
    const r = await w.replay([{ hello: "world" }, loadFixture("vsts-workitem-updated.json")]);
    expect(r.code).toBe(1);
    expect(r.outcomes.map((o) => o.outcome)).toEqual(["rejected", "applied"]);
    expect(r.outcomes[0]!.reason).toBe("cannot tell which tracker sent this payload (use --provider vsts|jira)");
    expect(r.stderr).toMatch(/^hooksync: 1 of 2 payloads were rejected \(each has its reason above\)$/m);
  });

  it("lets --provider skip detection", async () => {
    const w = await world();
    const o = await w.replayOne({ hello: "world" }, ["--provider", "vsts"]);
    expect(o).toMatchObject({ provider: "vsts", outcome: "rejected", reason: "payload has no resourceContainers.collection.id" });
  });

  it.each([
    ["broken JSON", "{\"eventType\": ", /^not valid JSON/],
    ["a JSON string", '"workitem.updated"', /^cannot tell which tracker/],
    ["a number", "42", /^cannot tell which tracker/],
    ["an envelope with a bad provider", '{"provider":"github","body":{}}', /^envelope provider must be one of vsts, jira/],
    ["a wrong type", '{"eventType": 5, "resourceContainers": {}}', /^eventType: expected string, got 5/],
  ])("rejects %s with its reason", async (_what, input, reason) => {
    const w = await world();
    const r = await w.run(["replay", "-", "--json"], { stdin: input });
    expect(r.code).toBe(1);
    expect(ndjson(r.stdout)[0]!.reason).toMatch(reason);
  });

  it("refuses a missing file as a usage error before reading anything", async () => {
    const w = await world();
    const r = await w.run(["replay", fixture("vsts-workitem-updated.json"), "missing.json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hooksync: no such file or directory: missing.json (check the path)\n");
    expect(await w.activity()).toEqual([]);
  });

  it("prints a line a person reads per payload without --json", async () => {
    const w = await world();
    const r = await w.run(["replay", fixture("vsts-workitem-updated.json")]);
    expect(r.stdout).toBe(
      `applied  ${fixture("vsts-workitem-updated.json")} vsts workitem.updated: BACKEND-1 assignee fabrikamfiber4@hotmail.com -> fabrikamfiber3@hotmail.com (skipped: inbound assignee sync is off for globex; inbound status sync is off for globex)\n`,
    );
  });

  it("streams a 50 MB NDJSON input", async () => {
    const w = await world();
    const base = loadFixture("vsts-workitem-updated.json");
    const lines: string[] = [];
    let size = 0;
    for (let i = 0; size < 50 * 1024 * 1024; i++) {
      base.resource.workItemId = 1000 + i;
      base.notificationId = i;
      const line = JSON.stringify(base);
      lines.push(line);
      size += line.length + 1;
    }
    const file = join(w.dir, "big.ndjson");
    writeFileSync(file, lines.join("\n") + "\n");
    const r = await w.run(["replay", file, "-q"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    const json = await w.run(["replay", file, "--json", "--dry-run"]);
    const out = ndjson(json.stdout);
    expect(out).toHaveLength(lines.length);
    expect(out.at(-1)).toMatchObject({ source: `${file}:${lines.length}`, outcome: "ignored", integration: VSTS_ID });
  }, 120_000);
});

describe("replay's lines for people", () => {
  it("escapes control characters that a payload puts in its event type", async () => {
    const w = await world();
    const p = loadFixture("vsts-git-push.json");
    p.eventType = "git.push\u001b[2J\u0007";
    const r = await w.run(["replay", "-"], { stdin: JSON.stringify(p) });
    expect(r.stdout).not.toMatch(/\u001b|\u0007/);
    expect(r.stdout).toContain("event type git.push\\u001b[2J\\u0007 is not synced");
  });
});
