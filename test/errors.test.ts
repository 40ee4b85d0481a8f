import { describe, expect, it } from "vitest";
import { permissionProblem } from "../src/errors.js";

const errno = (code: string, path?: string) => Object.assign(new Error(`${code}: x`), { code, path, syscall: "open" });

describe("permissionProblem", () => {
  it("turns an EACCES on a path into a one-line user error with exit 1, not a bug", () => {
    const e = permissionProblem(errno("EACCES", "/srv/in.ndjson"))!;
    expect({ kind: e.kind, exitCode: e.exitCode, message: e.message, hint: e.hint }).toEqual({
      kind: "permission",
      exitCode: 1,
      message: "/srv/in.ndjson is not accessible to this user (open failed)",
      hint: "check its owner and mode, or point hooksync elsewhere",
    });
  });

  it("names a read-only filesystem as such", () => {
    expect(permissionProblem(errno("EROFS", "/ro/x"))?.message).toBe("/ro/x is on a read-only filesystem (open failed)");
  });

  it("leaves other errors, and permission errors without a path, to the bug report", () => {
    expect(permissionProblem(errno("ENOENT", "/x"))).toBeNull();
    expect(permissionProblem(errno("EACCES"))).toBeNull();
    expect(permissionProblem(new Error("boom"))).toBeNull();
  });
});
