/**
 * Snowflake ids for event rows (activity, deliveries, outbox), packed into 53 bits so they stay
 * exact as JSON and JavaScript numbers:
 *
 *   bit 52      version (1)
 *   bits 51..11 milliseconds since 2025-01-01T00:00:00Z (41 bits: until 2094)
 *   bits 10..7  worker (4 bits: leased from the store, see IdLease; at most 16 writers at once)
 *   bits  6..0  sequence within the millisecond (128 a ms: 128,000 ids a second per process)
 *
 * Sentry's layout (5-bit bit-reversed version, 32-bit seconds, 12-bit region, 4-bit sequence)
 * allows 16 ids a second per region, far too few for replay. Ids are strictly increasing within
 * a process even when the clock steps back (the last time is kept and never gone below), the
 * sequence runs out (the next millisecond is borrowed) or the process changes worker (the next
 * millisecond is taken). The layout is that of the stores written before leases (a random
 * region then), so their ids keep their order and deliveries can still be pruned by id range.
 */
export const ID_EPOCH_MS = Date.UTC(2025, 0, 1);
const VERSION = 1;
const TIME_BITS = 41;
const WORKER_BITS = 4;
const SEQUENCE_BITS = 7;
const MAX_SEQUENCE = 2 ** SEQUENCE_BITS - 1;
export const MAX_WORKER = 2 ** WORKER_BITS - 1;

export interface IdParts {
  version: number;
  ms: number;
  worker: number;
  sequence: number;
}

/** Who may hand out ids, and under which worker number: the lease, checked for each id. */
export interface WorkerSource {
  /** The worker number good for an id of time ms (since the Unix epoch); waits or throws if none. */
  workerAt(ms: number): number;
}

export class SnowflakeIds {
  private lastMs = -1;
  private lastWorker = -1;
  private sequence = 0;

  constructor(
    private readonly workers: WorkerSource,
    private readonly now: () => number = Date.now,
  ) {}

  next(): number {
    let ms = Math.max(this.now() - ID_EPOCH_MS, this.lastMs, 0);
    let sequence = ms === this.lastMs ? this.sequence + 1 : 0;
    if (sequence > MAX_SEQUENCE) {
      ms++;
      sequence = 0;
    }
    let worker = this.workers.workerAt(ID_EPOCH_MS + ms);
    if (worker !== this.lastWorker && ms === this.lastMs) {
      // Under a new worker number the sequence starts again: a later millisecond keeps the order.
      ms++;
      sequence = 0;
      worker = this.workers.workerAt(ID_EPOCH_MS + ms);
    }
    if (!Number.isInteger(worker) || worker < 0 || worker > MAX_WORKER) throw new RangeError(`worker must be 0..${MAX_WORKER}`);
    if (ms >= 2 ** TIME_BITS) throw new RangeError("the id clock ran past 2094");
    this.lastMs = ms;
    this.lastWorker = worker;
    this.sequence = sequence;
    return pack(ms, worker, sequence);
  }
}

const pack = (ms: number, worker: number, sequence: number): number =>
  VERSION * 2 ** (TIME_BITS + WORKER_BITS + SEQUENCE_BITS) + ms * 2 ** (WORKER_BITS + SEQUENCE_BITS) + worker * 2 ** SEQUENCE_BITS + sequence;

/**
 * The smallest id made at ms (since the Unix epoch): ids encode their time first, so every id
 * below it was made earlier, and a range of them is a range of time on the primary key.
 */
export const firstIdAt = (ms: number): number => pack(Math.max(ms - ID_EPOCH_MS, 0), 0, 0);

export function parseId(id: number): IdParts {
  const sequence = id % 2 ** SEQUENCE_BITS;
  const worker = Math.floor(id / 2 ** SEQUENCE_BITS) % 2 ** WORKER_BITS;
  const ms = Math.floor(id / 2 ** (WORKER_BITS + SEQUENCE_BITS)) % 2 ** TIME_BITS;
  const version = Math.floor(id / 2 ** (TIME_BITS + WORKER_BITS + SEQUENCE_BITS));
  return { version, ms, worker, sequence };
}

/**
 * How often an insert is tried with a fresh id when the id is taken: a guard, since a leased
 * worker number is one process's alone (two hosts whose clocks disagree could still meet).
 */
export const ID_ATTEMPTS = 5;

/**
 * Runs insert(id) with fresh ids until one is free; a clear error after ID_ATTEMPTS collisions.
 * insert writes `INSERT ... ON CONFLICT (id) DO NOTHING` and resolves to the rows it changed: a
 * taken id changes none, on both backends, and leaves a PostgreSQL transaction usable.
 */
export async function insertWithId(ids: SnowflakeIds, table: string, insert: (id: number) => Promise<number>): Promise<number> {
  for (let attempt = 1; attempt <= ID_ATTEMPTS; attempt++) {
    const id = ids.next();
    if ((await insert(id)) > 0) return id;
  }
  throw new Error(`could not find a free ${table} id after ${ID_ATTEMPTS} tries: is another writer using the same id worker?`);
}
