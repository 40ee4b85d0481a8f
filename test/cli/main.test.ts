import { describe, expect, it } from "vitest";
import { run } from "../helpers.js";

describe("main", () => {
  it("prints the version", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("answers an unknown option with a one-line usage error and exit 2", async () => {
    const r = await run(["issue", "list", "--nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hooksync: unknown option '--nope' (see 'hooksync --help')\n");
  });

  it("answers a missing argument with exit 2", async () => {
    const r = await run(["import"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hooksync: missing required argument 'file'/);
  });

  it("prints a JSON error object on stdout with --json", async () => {
    const r = await run(["import", "/nonexistent/file.json", "--json", "--db", ":memory:"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { kind: "usage", message: "cannot read /nonexistent/file.json: no such file", hint: "check the path" },
    });
  });
});

describe("main without a command", () => {
  it("shows the help on stderr and exits 2, with no other line", async () => {
    const r = await run(["issue"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Usage: hooksync issue/);
    expect(r.stderr).not.toMatch(/outputHelp/);
  });
});
