import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { pruneDeliveries, type PruneResult, startRetention } from "../../src/receiver/retention.js";
import { fixture } from "../helpers.js";
import { DAY, oldDeliveries } from "../old-deliveries.js";
import { type BackendName, backends, failWrites, storeTargets } from "../pg.js";
import { world } from "../world.js";
import { receiver } from "./harness.js";

const stores = storeTargets("receiver_retention");

const VSTS_UPDATED = readFileSync(fixture("vsts-workitem-updated.json"));

/** The results of a pruner's passes, each awaitable as it comes. */
function passes() {
  const results: PruneResult[] = [];
  const waiting: ((r: PruneResult) => void)[] = [];
  return {
    results,
    onPass: (r: PruneResult) => {
      results.push(r);
      waiting.splice(0).forEach((resolve) => resolve(r));
    },
    next: () => new Promise<PruneResult>((resolve) => waiting.push(resolve)),
  };
}

const fail = (err: Error) => {
  throw err;
};

/**
 * Old deliveries enough for a pass to take a second or more on each backend, so serve answers while
 * it goes on: deleting a row costs PostgreSQL a round trip to the server, SQLite a function call.
 */
const BACKLOG: Record<BackendName, number> = { sqlite: 30_000, postgres: 5_000 };

describe.each(backends)("on %s", (backend) => {
  const freshWorld = async () => world(await stores(backend));

  describe("pruneDeliveries", () => {
    it("walks the whole range batch by batch, keeping pending, stubs and newer deliveries between them", async () => {
      const w = await freshWorld();
      const d = await oldDeliveries(w.db);
      const now = new Date();
      const at = (days: number) => new Date(now.getTime() - days * DAY);
      const kept = [await d.add(at(9), { end: { outcome: "pending" } }), await d.add(at(8), { activity: true, end: { outcome: "applied" } })];
      await d.addMany(20, at(7));
      kept.push(await d.add(at(6), { end: { outcome: "pending" } }));
      await d.addMany(10, at(5));
      kept.push(await d.add(at(1)));
      const r = await pruneDeliveries(d.store, { now, olderThanMs: 2 * DAY, batch: 3 });
      expect(r).toEqual({ olderThan: at(2).toISOString(), deleted: 30, stripped: 1, dryRun: false });
      expect(await d.ids()).toEqual(kept);
    });
  });

  describe("startRetention (serve --retain)", () => {
    it("prunes at once, then again every interval by the injected clock", async () => {
      const w = await freshWorld();
      const d = await oldDeliveries(w.db);
      let clock = new Date("2026-03-01T00:00:00Z");
      const at = (days: number) => new Date(clock.getTime() - days * DAY);
      await d.add(at(31));
      const young = await d.add(at(29));
      const p = passes();
      const first = p.next();
      const retention = startRetention(d.store, { retainMs: 30 * DAY, now: () => clock, intervalMs: 5, onPass: p.onPass, onError: fail });
      expect(await first).toMatchObject({ deleted: 1 });
      expect(await d.ids()).toEqual([young]);
      clock = new Date(clock.getTime() + 2 * DAY);
      // Passes that find nothing are passes too: wait for the one that sees the new clock.
      while ((await p.next()).deleted === 0);
      expect(await d.ids()).toEqual([]);
      await retention.stop();
    });

    it("keeps every delivery with a retention of 0", async () => {
      const w = await freshWorld();
      const d = await oldDeliveries(w.db);
      const ids = [await d.add(new Date("2025-02-01T00:00:00Z")), await d.add(new Date())];
      const p = passes();
      const retention = startRetention(d.store, { retainMs: 0, now: () => new Date(), intervalMs: 1, onPass: p.onPass, onError: fail });
      // With any retention, the first batch runs before startRetention returns.
      await new Promise((resolve) => setImmediate(resolve));
      await retention.stop();
      expect(p.results).toEqual([]);
      expect(await d.ids()).toEqual(ids);
    });

    it("prunes a backlog in the background while serve keeps answering deliveries", async () => {
      const w = await freshWorld();
      const d = await oldDeliveries(w.db);
      await d.addMany(BACKLOG[backend], new Date(Date.now() - 40 * DAY), { body: Buffer.alloc(2048, "x") });
      const r = await receiver(w.db);
      const p = passes();
      const done = p.next();
      let finished = false;
      void done.then(() => (finished = true));
      const retention = startRetention(r.store, { retainMs: 30 * DAY, now: () => new Date(), onPass: p.onPass, onError: fail });
      const started = Date.now();
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await r.postVsts(VSTS_UPDATED));
      const answeredIn = Date.now() - started;
      // Answered between batches, while the pass still had old deliveries to go through.
      expect(finished).toBe(false);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(answeredIn).toBeLessThan(1000);
      expect(await done).toMatchObject({ deleted: BACKLOG[backend], stripped: 0 });
      expect(await d.ids()).toEqual(answers.map((a) => a.body.delivery));
      await retention.stop();
    });

    it("stops after the batch in flight and prunes no more", async () => {
      const w = await freshWorld();
      const d = await oldDeliveries(w.db);
      await d.addMany(1000, new Date(Date.now() - 40 * DAY));
      const p = passes();
      const retention = startRetention(d.store, { retainMs: 30 * DAY, now: () => new Date(), batch: 100, onPass: p.onPass, onError: fail });
      await retention.stop();
      expect(await d.ids()).toHaveLength(900);
      expect(p.results).toEqual([]);
    });

    it("reports a failed pass and tries again at the next interval", async () => {
      const w = await freshWorld();
      const d = await oldDeliveries(w.db);
      await d.add(new Date(Date.now() - 40 * DAY));
      const errors: Error[] = [];
      const p = passes();
      const next = p.next();
      // The first pass fails inside its transaction (as a full disk would); the trigger is gone by the next.
      const repair = await failWrites(d.store.sql, { name: "no_prune", table: "deliveries", event: "DELETE", message: "database or disk is full" });
      let dropped: Promise<void> | undefined;
      const retention = startRetention(d.store, {
        retainMs: 30 * DAY,
        now: () => new Date(),
        intervalMs: 5,
        onPass: p.onPass,
        onError: (e) => {
          errors.push(e);
          dropped = repair();
        },
      });
      expect(await next).toMatchObject({ deleted: 1 });
      await dropped;
      expect(errors.map((e) => e.message)).toEqual(["database or disk is full"]);
      expect(await d.ids()).toEqual([]);
      await retention.stop();
    });
  });
});
