import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, tempDir } from "./helpers.js";

const npm = spawnSync("npm", ["--version"], { encoding: "utf8" });
if (npm.status !== 0) process.stderr.write("\n!!! test/package.test.ts SKIPPED: npm is not available, the packed package is NOT checked !!!\n\n");

/** The files a fresh clone has: tracked and new ones git does not ignore (no dist/, no node_modules). */
function freshClone(to: string): void {
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0");
  for (const file of files.filter((f) => f && f !== "node_modules" && existsSync(join(ROOT, f)))) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(to, file));
  }
  // The build's own tools, as `npm install` would have put them there.
  symlinkSync(join(ROOT, "node_modules"), join(to, "node_modules"));
}

const version = (pkgDir: string) => (JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version: string }).version;

describe.skipIf(npm.status !== 0)("the npm package", () => {
  const dir = tempDir();
  afterAll(dir.cleanup);

  it("packs from a fresh clone with dist/ built, installs into a prefix and runs --version and replay", () => {
    const clone = join(dir.path, "clone");
    freshClone(clone);
    expect(existsSync(join(clone, "dist"))).toBe(false);
    const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", dir.path], { cwd: clone, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as {
      filename: string;
      files: { path: string }[];
    }[];
    const paths = packed[0]!.files.map((f) => f.path);
    expect(paths).toContain("dist/cli/main.js");
    expect(paths).toContain("bin/hooksync.js");

    const prefix = join(dir.path, "prefix");
    // From the local cache when it holds every dependency, else from the registry. Install scripts
    // are skipped: better-sqlite3's would compile SQLite for minutes; the binary this checkout built is
    // reused when it is the same version, else rebuilt.
    const install = (extra: string[]) =>
      spawnSync("npm", ["install", "-g", "--prefix", prefix, "--ignore-scripts", "--no-audit", "--no-fund", ...extra, join(dir.path, packed[0]!.filename)], { encoding: "utf8" });
    if (install(["--offline"]).status !== 0) expect(install(["--prefer-offline"]).stderr).not.toMatch(/ERR!/);
    const installed = join(prefix, "lib", "node_modules", "hooksync");
    const sqlite = join(installed, "node_modules", "better-sqlite3");
    const ours = join(ROOT, "node_modules", "better-sqlite3");
    if (version(sqlite) === version(ours)) {
      mkdirSync(join(sqlite, "build", "Release"), { recursive: true });
      copyFileSync(join(ours, "build", "Release", "better_sqlite3.node"), join(sqlite, "build", "Release", "better_sqlite3.node"));
    } else {
      execFileSync("npm", ["rebuild", "better-sqlite3"], { cwd: installed, stdio: "ignore" });
    }

    const bin = join(prefix, "bin", "hooksync");
    const env = { PATH: process.env.PATH, HOME: dir.path, HOOKSYNC_DB: join(dir.path, "store.db") };
    const hooksync = (args: string[]) => spawnSync(bin, args, { env, encoding: "utf8" });
    expect(hooksync(["--version"])).toMatchObject({ status: 0, stdout: `${version(ROOT)}\n` });
    expect(hooksync(["init", "--demo"])).toMatchObject({ status: 0, stderr: expect.stringContaining("next: hooksync replay") });
    const payloads = join(installed, "examples", "payloads");
    const replay = hooksync(["replay", payloads, "--json"]);
    expect(replay.stderr).not.toMatch(/ERR_|bug/);
    expect(replay.status).toBe(0);
    expect(replay.stdout.trim().split("\n")).toHaveLength(readdirSync(payloads).length);
  }, 120_000);
});
