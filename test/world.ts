import { readFileSync } from "node:fs";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import type { IssueView, ActivityView } from "../src/store/views.js";
import { fixture, ndjson, run, tempDir, type TestDepsOptions } from "./helpers.js";

export const VSTS_ID = "c12d0eb8-e382-443b-9f9c-c52cba5014c2";
export const VSTS_PROJECT = "be9b3917-87e6-42a4-a549-2bc06a7a878f";
export const JIRA_ID = "jira-1";

export const loadFixture = (name: string): any => JSON.parse(readFileSync(fixture(name), "utf8"));

/** A store in a temp dir with test/fixtures/dataset.json imported, and shortcuts to drive it. */
export async function world() {
  const dir = tempDir();
  onTestFinished(dir.cleanup);
  const db = join(dir.path, "hooksync.db");
  // Only init creates a store (cli.md); import then fills it.
  if ((await run(["init", "--db", db])).code !== 0) throw new Error(`init failed at ${db}`);
  const imported = await run(["import", fixture("dataset.json"), "--db", db]);
  if (imported.code !== 0) throw new Error(`dataset import failed: ${imported.stderr}`);
  const w = {
    db,
    dir: dir.path,
    run: (argv: string[], o?: TestDepsOptions) => run([...argv, "--db", db], o),
    /** Replays payloads through stdin as NDJSON, returning the outcome lines and the exit code. */
    async replay(payloads: unknown[], flags: string[] = []) {
      const r = await w.run(["replay", "-", "--json", ...flags], { stdin: payloads.map((p) => JSON.stringify(p)).join("\n") });
      return { code: r.code, stderr: r.stderr, outcomes: ndjson(r.stdout) as any[] };
    },
    async replayOne(payload: unknown, flags: string[] = []) {
      const r = await w.replay([payload], flags);
      return { ...r.outcomes[0], code: r.code };
    },
    async issues(): Promise<Record<string, IssueView>> {
      const r = await w.run(["issue", "list", "--json"]);
      return Object.fromEntries((JSON.parse(r.stdout) as IssueView[]).map((i) => [i.id, i]));
    },
    async activity(): Promise<ActivityView[]> {
      return JSON.parse((await w.run(["activity", "--json"])).stdout) as ActivityView[];
    },
  };
  return w;
}
