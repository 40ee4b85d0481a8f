import { describe, expect, it } from "vitest";
import { waitForWriteLock } from "../../src/store/db.js";

const busy = () => Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });

describe("waiting for the write lock (issue 12 item 1)", () => {
  it("begins again for as long as BEGIN finds another writer holding the lock", () => {
    let tries = 0;
    const result = waitForWriteLock(
      (body) => {
        if (++tries < 50) throw busy();
        return body();
      },
      () => "written",
    );
    expect([result, tries]).toEqual(["written", 50]);
  });

  it("does not run a body again that failed busy after it began", () => {
    let runs = 0;
    expect(() =>
      waitForWriteLock(
        (body) => body(),
        () => {
          runs++;
          throw busy();
        },
      ),
    ).toThrow("database is locked");
    expect(runs).toBe(1);
  });
});
