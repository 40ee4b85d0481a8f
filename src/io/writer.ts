import type { Writable } from "node:stream";

/**
 * Batches many small lines into few writes and waits when the stream pushes back, so a replay
 * of a million payloads piped into a slow reader keeps constant memory.
 */
export class LineWriter {
  private buffer = "";

  constructor(
    private readonly stream: Writable,
    private readonly limit = 64 * 1024,
  ) {}

  async line(text: string): Promise<void> {
    this.buffer += text + "\n";
    if (this.buffer.length >= this.limit) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.buffer) return;
    const chunk = this.buffer;
    this.buffer = "";
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off("drain", done);
          this.stream.off("error", done);
          this.stream.off("close", done);
          resolve();
        };
        this.stream.once("drain", done);
        this.stream.once("error", done);
        this.stream.once("close", done);
      });
    }
  }
}
