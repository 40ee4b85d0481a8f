import { describe, expect, it } from "vitest";
import { DAY, oldDeliveries } from "../old-deliveries.js";
import { NOW as NOW_MS, world } from "../world.js";

const NOW = new Date(NOW_MS);
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);
const now = () => NOW;

describe("hooksync deliveries prune", () => {
  it("deletes deliveries received before the cutoff and keeps the newer ones", async () => {
    const w = await world();
    const d = await oldDeliveries(w.db);
    const old = [await d.add(ago(45)), await d.add(ago(31), { end: { outcome: "applied" } })];
    const recent = [await d.add(ago(29)), await d.add(ago(0.01))];
    const r = await w.run(["deliveries", "prune", "--older-than", "30d"], { now });
    expect(r).toMatchObject({ code: 0, stderr: "", stdout: "pruned 2 deliveries older than 30d\n" });
    expect(await d.ids()).toEqual(recent);
    expect(await Promise.all(old.map(d.row))).toEqual([undefined, undefined]);
  });

  it("never prunes a pending delivery, however old", async () => {
    const w = await world();
    const d = await oldDeliveries(w.db);
    const pending = await d.add(ago(90), { end: { outcome: "pending" } });
    await d.add(ago(90));
    expect((await w.run(["deliveries", "prune", "--older-than", "12h"], { now })).stdout).toBe("pruned 1 delivery older than 12h\n");
    expect(await d.ids()).toEqual([pending]);
  });

  it("keeps refused and rejected deliveries with --keep-failed, and prunes them without it", async () => {
    const w = await world();
    const d = await oldDeliveries(w.db);
    const refused = await d.add(ago(40), { end: { verdict: 401, outcome: "rejected", integrationId: null, reason: "wrong shared-secret header" } });
    const badPayload = await d.add(ago(40), { end: { verdict: 400, outcome: "ignored" } });
    await d.add(ago(40), { end: { outcome: "applied" } });
    const kept = await w.run(["deliveries", "prune", "--older-than", "30d", "--keep-failed", "--json"], { now });
    expect(JSON.parse(kept.stdout)).toMatchObject({ deleted: 1, stripped: 0 });
    expect(await d.ids()).toEqual([refused, badPayload]);
    await w.run(["deliveries", "prune", "--older-than", "30d"], { now });
    expect(await d.ids()).toEqual([]);
  });

  it("keeps a stub of a delivery that activity points at: the activity still names it, deliveries lists it as pruned, replay says its body was pruned", async () => {
    const w = await world();
    const d = await oldDeliveries(w.db);
    const applied = await d.add(ago(40), { end: { outcome: "applied", changes: [{ issue: "BACKEND-1", field: "assignee", from: null, to: "jane.doe@example.com" }] }, activity: true });
    const before = await w.activity();
    const r = await w.run(["deliveries", "prune", "--older-than", "30d"], { now });
    expect(r.stdout).toBe("pruned 1 delivery older than 30d (1 kept as stubs for their activity)\n");
    expect(await d.row(applied)).toMatchObject({ headers: "{}", body: null, prunedAt: NOW.toISOString(), outcome: "applied" });
    expect(await w.activity()).toEqual(before);
    expect(before).toMatchObject([{ issue: "BACKEND-1", delivery: applied }]);
    const listed = JSON.parse((await w.run(["deliveries", "--json"])).stdout);
    expect(listed).toMatchObject([{ id: applied, outcome: "applied", prunedAt: NOW.toISOString(), changes: [{ issue: "BACKEND-1" }] }]);
    expect((await w.run(["deliveries"])).stdout).toMatch(new RegExp(`^${applied} .* 200 +applied \\(pruned\\) +BACKEND-1 assignee -> jane.doe@example.com$`, "m"));
    const replay = await w.run(["replay", "--delivery", String(applied)]);
    expect(replay.code).toBe(2);
    expect(replay.stderr).toBe(
      `hooksync: delivery ${applied} was pruned on ${NOW.toISOString()}: its body is gone (only its outcome and changes are kept; serve --retain keeps deliveries longer)\n`,
    );
    // A stub is already as small as it gets: pruned again, it is not counted.
    expect(JSON.parse((await w.run(["deliveries", "prune", "--older-than", "30d", "--json"], { now })).stdout)).toMatchObject({ deleted: 0, stripped: 0 });
  });

  it("counts what would go with --dry-run and changes nothing", async () => {
    const w = await world();
    const d = await oldDeliveries(w.db);
    await d.add(ago(40), { end: { outcome: "applied" }, activity: true });
    await d.add(ago(40));
    await d.add(ago(1));
    const before = await d.dump();
    const r = await w.run(["deliveries", "prune", "--older-than", "30d", "--dry-run"], { now });
    expect(r.stdout).toBe("would prune 2 deliveries older than 30d (1 would be kept as stubs for their activity); nothing changed (--dry-run)\n");
    const json = await w.run(["deliveries", "prune", "--older-than", "30d", "--dry-run", "--json"], { now });
    expect(JSON.parse(json.stdout)).toEqual({ olderThan: ago(30).toISOString(), deleted: 1, stripped: 1, dryRun: true });
    expect(await d.dump()).toEqual(before);
  });

  it("prints the cutoff and the counts as JSON, through as many batches as it takes", async () => {
    const w = await world();
    const d = await oldDeliveries(w.db);
    await d.addMany(1234, ago(3));
    const keep = await d.add(ago(0));
    const r = await w.run(["deliveries", "prune", "--older-than", "90m", "--json"], { now });
    expect(JSON.parse(r.stdout)).toEqual({ olderThan: new Date(NOW.getTime() - 90 * 60_000).toISOString(), deleted: 1234, stripped: 0, dryRun: false });
    expect(await d.ids()).toEqual([keep]);
    expect((await w.run(["deliveries", "prune", "--older-than", "2h"], { now })).stdout).toBe("pruned 0 deliveries older than 2h\n");
  });

  it.each([["30"], ["5x"], ["0"], ["0d"], ["-1d"], ["1.5h"], ["1w"], [""]])("refuses --older-than %j with one line, exit 2", async (value) => {
    const w = await world();
    const r = await w.run(["deliveries", "prune", "--older-than", value]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `hooksync: option '--older-than <duration>' argument '${value}' is invalid. must be a duration above 0 such as 90m, 12h or 30d (see 'hooksync deliveries prune --help')\n`,
    );
  });

  it("requires --older-than", async () => {
    const w = await world();
    const r = await w.run(["deliveries", "prune"]);
    expect(r).toMatchObject({ code: 2, stderr: "hooksync: required option '--older-than <duration>' not specified (see 'hooksync deliveries prune --help')\n" });
  });
});
