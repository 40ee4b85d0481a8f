import { spawn } from "node:child_process";
import { join } from "node:path";

export const BIN = join(import.meta.dirname, "..", "bin", "hooksync.js");

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Runs the built CLI; with maxrss, also its peak RSS in bytes. */
export function runCli(args, { maxrss = false, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const node = maxrss ? ["--import", join(import.meta.dirname, "maxrss.js")] : [];
    const child = spawn(process.execPath, [...node, BIN, ...args], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`hooksync ${args.join(" ")} exited ${code}: ${stderr.slice(-500)}`));
      const rss = Number(/BENCH_MAXRSS_KB=(\d+)/.exec(stderr)?.[1] ?? NaN) * 1024;
      resolve({ seconds: (performance.now() - started) / 1000, rss });
    });
  });
}
