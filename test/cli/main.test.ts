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
    expect(r.stderr).toBe("hooksync: unknown option '--nope' (see 'hooksync issue list --help')\n");
  });

  it("answers a mistyped command in one line, the suggestion and the group's help in the hint", async () => {
    expect(await run(["isue", "list"])).toMatchObject({ code: 2, stderr: "hooksync: unknown command 'isue' (did you mean issue? see 'hooksync --help')\n" });
    expect(await run(["issue", "lst"])).toMatchObject({ code: 2, stderr: "hooksync: unknown command 'lst' (did you mean list? see 'hooksync issue --help')\n" });
  });

  it("answers a file that is not JSON in one line, naming the file", async () => {
    const r = await run(["import", "-", "--db", ":memory:"], { stdin: "nope\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hooksync: - is not valid JSON: [^\n]* \(fix the file and try again\)\n$/);
  });

  it("answers an import of a directory in one line, saying what import takes", async () => {
    const r = await run(["import", "test", "--db", ":memory:"]);
    expect(r).toMatchObject({ code: 2, stderr: "hooksync: test is a directory (import takes one JSON file, or - for stdin)\n" });
  });

  it("shows a subcommand's help for 'help <group> <command>', global options included", async () => {
    const r = await run(["help", "issue", "list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: hooksync issue list \[options\]/);
    expect(r.stdout).toMatch(/Global Options:[\s\S]*--db <path\|url>[\s\S]*--json[\s\S]*--no-color[\s\S]*-q, --quiet[\s\S]*-v, --verbose[\s\S]*--migrate/);
  });

  it("prints the version as JSON with --json", async () => {
    const r = await run(["--version", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
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
