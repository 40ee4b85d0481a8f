import type { Writable } from "node:stream";

/** A one-line progress bar on a TTY's stderr, redrawn at most ten times a second. */
export class Progress {
  private last = 0;
  private shown = false;

  constructor(
    private readonly stream: Writable,
    private readonly total: number | null,
    private readonly now: () => number = Date.now,
  ) {}

  update(doneBytes: number, count: number): void {
    const t = this.now();
    if (t - this.last < 100) return;
    this.last = t;
    let line = `${count.toLocaleString("en-US")} payloads`;
    if (this.total) {
      const ratio = Math.min(1, doneBytes / this.total);
      const width = 30;
      const filled = Math.round(ratio * width);
      line = `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%  ${line}`;
    }
    this.stream.write(`\r\u001b[K${line}`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.stream.write("\r\u001b[K");
    this.shown = false;
    this.last = 0;
  }
}
