import type { DeliveryApplier } from "./apply.js";
import type { Answer } from "./answer.js";
import type { Store } from "../store/store.js";
import type { PendingDelivery } from "../store/deliveries-repo.js";

export interface PendingRunnerOptions {
  /** How often the pending deliveries are tried again (the lookup's cooldown is a good value). */
  intervalMs: number;
  /** One line for each pending delivery applied. */
  applied: (row: PendingDelivery, answer: Answer) => void;
  onError: (err: Error) => void;
}

const PAGE = 100;

/**
 * Rule 10.4: serve applies the deliveries it kept pending by itself, oldest first; one that
 * still cannot be applied holds back the later ones of its issue until the next round.
 */
export class PendingRunner {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly applier: DeliveryApplier,
    private readonly opts: PendingRunnerOptions,
  ) {}

  /** Tries at once (deliveries left pending by an earlier run), then on every interval. */
  start(): void {
    this.timer = setInterval(() => this.kick(), this.opts.intervalMs);
    this.timer.unref();
    this.kick();
  }

  /** A round now, or right after the one running. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.round()
      .catch((err: Error) => this.opts.onError(err))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async round(): Promise<void> {
    const held = new Set<string>();
    for (let after = 0; !this.stopped; ) {
      const rows = await this.store.deliveries.pending(after, PAGE);
      if (rows.length === 0) return;
      for (const row of rows) {
        after = row.id;
        if (this.stopped) return;
        const issue = `${row.integrationId}:${row.externalKey ?? `#${row.id}`}`;
        if (held.has(issue)) continue;
        const answer = await this.applier.retry(row);
        if (answer) this.opts.applied(row, answer);
        else held.add(issue);
      }
    }
  }

  /** No new round; the one running ends after the delivery it is on. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
