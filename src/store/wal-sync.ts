import { closeSync, fdatasync, fsyncSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { StoreError } from "../errors.js";

/**
 * Durable commits without blocking the event loop. With synchronous=FULL, SQLite fsyncs the WAL
 * inside COMMIT, on the receiver's only thread: every request waits for the disk in turn. Here
 * the connection runs at synchronous=NORMAL (COMMIT writes the WAL frames, no fsync; checkpoints
 * still sync the WAL before and the database after) and the WAL is fdatasync'd in libuv's thread
 * pool instead. A caller that awaits sync() after its COMMIT holds the same guarantee FULL gives:
 * its frames, and the WAL header they are salted with, are on disk. One sync in flight serves
 * every commit made before it started, so under load one disk wait covers many deliveries.
 */
export class WalSync {
  private inFlight: Promise<void> | undefined;
  /** The sync after the one in flight: every caller that came during it shares it. */
  private next: Promise<void> | undefined;

  private constructor(private readonly fd: number | undefined) {}

  /** The WAL of the store at path, opened for syncing; an in-memory store has nothing to sync. */
  static open(path: string): WalSync {
    if (path === ":memory:") return new WalSync(undefined);
    const wal = `${path}-wal`;
    let fd: number | undefined;
    try {
      fd = openSync(wal, "r");
      // SQLite made the WAL when the store was opened; its directory entry must outlive a power
      // cut as well, or the first deliveries' frames would be in a file nobody can find.
      const dir = openSync(dirname(path), "r");
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      throw new StoreError(`cannot open ${wal} for syncing: ${(err as Error).message}`, "is the store in WAL mode on a local disk? run 'hooksync doctor'");
    }
    return new WalSync(fd);
  }

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    if (this.fd === undefined) return Promise.resolve();
    if (!this.inFlight) return this.start();
    return (this.next ??= this.inFlight.then(
      () => this.start(),
      () => this.start(),
    ));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }

  private start(): Promise<void> {
    this.next = undefined;
    const fd = this.fd!;
    const done = new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    this.inFlight = done;
    const clear = () => {
      if (this.inFlight === done) this.inFlight = undefined;
    };
    done.then(clear, clear);
    return done;
  }
}
