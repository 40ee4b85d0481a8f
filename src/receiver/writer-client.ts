import { Worker } from "node:worker_threads";
import { StoreError } from "../errors.js";
import type { Arrival, FromWriter, ToWriter, Verdict } from "./writer.js";

// Under vitest this module is TypeScript source, from which Node 20 cannot start a thread; the
// build's JavaScript of the same file is what runs (npm test builds first).
const THREAD = new URL(import.meta.url.endsWith(".ts") ? "../../dist/receiver/writer-thread.js" : "./writer-thread.js", import.meta.url);

export interface WriterOptions {
  /**
   * Rule 3.5, for a delivery the writer has authenticated and holds: the enriched body as JSON,
   * or null to apply it as it came. Undefined: no lookups, nothing is held.
   */
  lookup?: (arrival: Arrival, integration: string) => Promise<string | null>;
  /** A lookup that failed: the delivery is applied as it came. */
  onError: (err: Error) => void;
}

type Waiting = { arrival: Arrival; resolve: (v: Verdict) => void; reject: (e: Error) => void };

/**
 * The HTTP front's handle on the writer thread. Arrivals are posted in the order submit() is
 * called, those of one turn of the event loop in one message; each promise settles once the
 * writer has committed the delivery and its WAL is on disk.
 */
export class WriterClient {
  private next = 1;
  private readonly waiting = new Map<number, Waiting>();
  private outbox: Arrival[] = [];
  private dead: Error | undefined;
  private whenStopped: (() => void) | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly opts: WriterOptions,
  ) {}

  /** Starts the thread on the store at path; resolves once it has opened the store. */
  static start(path: string, opts: WriterOptions): Promise<WriterClient> {
    const worker = new Worker(THREAD, { workerData: { path, enrich: opts.lookup !== undefined } });
    const client = new WriterClient(worker, opts);
    return new Promise((resolve, reject) => {
      const onFirst = (m: FromWriter) => {
        worker.off("error", onError);
        if (m.kind === "fatal") return reject(new StoreError(m.message, m.hint));
        worker.on("message", (msg: FromWriter) => client.receive(msg));
        worker.on("error", (err) => client.die(err));
        worker.on("exit", () => client.die(new Error("the store writer stopped")));
        resolve(client);
      };
      const onError = (err: Error) => reject(new StoreError(`cannot start the store writer: ${err.message}`));
      worker.once("message", onFirst);
      worker.once("error", onError);
    });
  }

  submit(a: Omit<Arrival, "seq">): Promise<Verdict> {
    if (this.dead) return Promise.reject(this.dead);
    const arrival: Arrival = { ...a, seq: this.next++ };
    return new Promise((resolve, reject) => {
      this.waiting.set(arrival.seq, { arrival, resolve, reject });
      if (this.outbox.length === 0) setImmediate(() => this.post());
      this.outbox.push(arrival);
    });
  }

  /** Resolves once the writer has committed everything submitted and closed the store. */
  stop(): Promise<void> {
    if (this.dead) return Promise.resolve();
    return new Promise((resolve) => {
      this.whenStopped = resolve;
      this.post();
      this.send({ kind: "stop" });
    });
  }

  private post(): void {
    if (this.outbox.length === 0 || this.dead) return;
    const arrivals = this.outbox;
    this.outbox = [];
    this.send({ kind: "arrivals", arrivals });
  }

  private send(m: ToWriter): void {
    this.worker.postMessage(m);
  }

  private settle(seq: number, fn: (w: Waiting) => void): void {
    const w = this.waiting.get(seq);
    if (!w) return;
    this.waiting.delete(seq);
    fn(w);
  }

  private receive(m: FromWriter): void {
    if (m.kind === "verdicts") for (const [seq, v] of m.verdicts) this.settle(seq, (w) => w.resolve(v));
    else if (m.kind === "failed") for (const seq of m.seqs) this.settle(seq, (w) => w.reject(new StoreError(m.message)));
    else if (m.kind === "lookup") void this.lookUp(m.seq, m.integration);
    else if (m.kind === "stopped") {
      this.dead = new Error("the store writer stopped");
      this.whenStopped?.();
    }
  }

  private async lookUp(seq: number, integration: string): Promise<void> {
    const w = this.waiting.get(seq);
    let body: string | null = null;
    if (w && this.opts.lookup) {
      try {
        body = await this.opts.lookup(w.arrival, integration);
      } catch (err) {
        this.opts.onError(err as Error);
      }
    }
    this.send({ kind: "enriched", seq, body });
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    this.whenStopped?.();
  }
}
