import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { testDeps } from "../helpers.js";
import { outboundWorld, world } from "../world.js";

const w = outboundWorld();

const json = (r: { stdout: string }) => JSON.parse(r.stdout);
const issues = async () => (json(await w.run(["issue", "list", "--json"])) as any[]).map((i) => i.id);

/** Answers the confirmation as a user types it, on a terminal. */
async function confirmWith(keys: string) {
  const stdin = new PassThrough();
  const { deps, output, prompted } = testDeps({ tty: true, stdin, env: w.env });
  const done = main(["project", "delete", "backend", "--db", w.db], deps);
  await prompted("cannot be undone");
  stdin.write(keys);
  return { code: await done, ...output() };
}

describe("project delete (behaviour.md 9.2)", () => {
  it("9.2 with --yes removes the project with its issues, links, activity, memberships, pushes and Discord message ids", async () => {
    const hook = w.discord.webhook();
    await w.run(["notify", "discord", "--webhook-url-stdin"], { stdin: hook.url });
    await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    await w.run(["assign", "OPS-1", "jane.doe@example.com"]);
    const r = await w.run(["project", "delete", "backend", "--yes", "--json"]);
    expect(r.code).toBe(0);
    // Memberships: Jane, Bob and Mallory in backend. Outbox: two tracker pushes and the notification.
    expect(json(r)).toEqual({ project: "backend", issues: 1, links: 2, activity: 1, memberships: 3, outbox: 3, discordMessages: 1 });
    expect(await issues()).toEqual(["OPS-1"]);
    expect((json(await w.run(["activity", "--json"])) as any[]).map((a) => a.issue)).toEqual(["OPS-1"]);
    expect((json(await w.run(["outbound", "list", "--json"])) as any[]).map((o) => [o.issue, o.kind])).toEqual([["OPS-1", "discord"]]);
    // The other project's message is still edited, not posted anew.
    await w.run(["unassign", "OPS-1"]);
    expect(w.discord.requests.at(-1)!.method).toBe("PATCH");
  });

  it("prints what it removed", async () => {
    const r = await w.run(["project", "delete", "ops", "-y"]);
    expect(r.stdout).toBe("deleted project ops: 1 issue, 2 links, 0 activity rows, 1 membership, 0 outbox rows, 0 Discord message ids\n");
  });

  it("9.2 asks first on a terminal: yes deletes", async () => {
    const r = await confirmWith("y\r");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Delete project backend with its 1 issue, their links, activity and");
    expect(await issues()).toEqual(["OPS-1"]);
  });

  it("9.2 declining (the default) cancels with exit 130 and deletes nothing", async () => {
    const r = await confirmWith("\r");
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("hooksync: project backend was not deleted\n");
    expect(await issues()).toEqual(["BACKEND-1", "OPS-1"]);
  });

  it("without a terminal it needs --yes, and deletes nothing", async () => {
    const r = await w.run(["project", "delete", "backend"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hooksync: deleting project backend needs a confirmation, and there is no terminal to ask on (pass --yes to delete without asking)\n");
    expect(await issues()).toEqual(["BACKEND-1", "OPS-1"]);
  });

  it("an unknown project is a usage error, asked about or not", async () => {
    for (const flags of [["--yes"], []]) {
      const r = await w.run(["project", "delete", "nope", ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe("hooksync: no project nope (see 'hooksync issue list')\n");
    }
  });
});

describe("project list", () => {
  it("lists every project with its organization and issue count, as JSON with --json", async () => {
    const local = await world();
    const r = await local.run(["project", "list", "--json"]);
    expect(r.code).toBe(0);
    const projects = JSON.parse(r.stdout) as { slug: string; organization: string; issues: number }[];
    const issues = Object.values(await local.issues());
    expect(projects.length).toBeGreaterThan(1);
    for (const p of projects) expect(p.issues, p.slug).toBe(issues.filter((i) => i.project === p.slug).length);
    expect(projects.reduce((n, p) => n + p.issues, 0)).toBe(issues.length);
    expect((await local.run(["project", "list"])).stdout).toMatch(/^\S+  .+  \(\S+, \d+ issues?\)\n/);
  });
});
