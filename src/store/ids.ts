/**
 * Snowflake ids for event rows (activity, deliveries), packed into 53 bits so they stay exact
 * as JSON and JavaScript numbers:
 *
 *   bit 52      version (1)
 *   bits 51..11 milliseconds since 2025-01-01T00:00:00Z (41 bits: until 2094)
 *   bits 10..7  region (4 bits: one per process, drawn at random, so two writers rarely share one)
 *   bits  6..0  sequence within the millisecond (128 a ms: 128,000 ids a second per process)
 *
 * Sentry's layout (5-bit bit-reversed version, 32-bit seconds, 12-bit region, 4-bit sequence)
 * allows 16 ids a second per region, far too few for replay. Ids are strictly increasing within
 * a process even when the clock steps back (the last time is kept and never gone below) or the
 * sequence runs out (the next millisecond is borrowed).
 */
export const ID_EPOCH_MS = Date.UTC(2025, 0, 1);
const VERSION = 1;
const TIME_BITS = 41;
const REGION_BITS = 4;
const SEQUENCE_BITS = 7;
const MAX_SEQUENCE = 2 ** SEQUENCE_BITS - 1;
export const MAX_REGION = 2 ** REGION_BITS - 1;

export interface IdParts {
  version: number;
  ms: number;
  region: number;
  sequence: number;
}

export class SnowflakeIds {
  private lastMs = -1;
  private sequence = 0;

  constructor(
    private readonly region: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(region) || region < 0 || region > MAX_REGION) throw new RangeError(`region must be 0..${MAX_REGION}`);
  }

  next(): number {
    let ms = Math.max(this.now() - ID_EPOCH_MS, this.lastMs, 0);
    if (ms === this.lastMs) {
      this.sequence++;
      if (this.sequence > MAX_SEQUENCE) {
        ms++;
        this.sequence = 0;
      }
    } else this.sequence = 0;
    if (ms >= 2 ** TIME_BITS) throw new RangeError("the id clock ran past 2094");
    this.lastMs = ms;
    return (
      VERSION * 2 ** (TIME_BITS + REGION_BITS + SEQUENCE_BITS) +
      ms * 2 ** (REGION_BITS + SEQUENCE_BITS) +
      this.region * 2 ** SEQUENCE_BITS +
      this.sequence
    );
  }
}

export function parseId(id: number): IdParts {
  const sequence = id % 2 ** SEQUENCE_BITS;
  const region = Math.floor(id / 2 ** SEQUENCE_BITS) % 2 ** REGION_BITS;
  const ms = Math.floor(id / 2 ** (REGION_BITS + SEQUENCE_BITS)) % 2 ** TIME_BITS;
  const version = Math.floor(id / 2 ** (TIME_BITS + REGION_BITS + SEQUENCE_BITS));
  return { version, ms, region, sequence };
}

/** How often an insert is tried with a fresh id when another writer took the same one. */
export const ID_ATTEMPTS = 5;

/** Runs insert(id) with fresh ids until one is free; a clear error after ID_ATTEMPTS collisions. */
export function insertWithId(ids: SnowflakeIds, table: string, insert: (id: number) => void): number {
  for (let attempt = 1; ; attempt++) {
    const id = ids.next();
    try {
      insert(id);
      return id;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== "SQLITE_CONSTRAINT_PRIMARYKEY" || attempt >= ID_ATTEMPTS) {
        if (code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
          throw new Error(`could not find a free ${table} id after ${ID_ATTEMPTS} tries: is another writer using the same id region?`);
        }
        throw err;
      }
    }
  }
}
