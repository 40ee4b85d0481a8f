import { InvalidArgumentError } from "commander";

/** A commander parser for a whole number in [min, max]; anything else is a usage error naming the flag. */
export const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}`);
    }
    return n;
  };

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A commander parser for a duration (`90m`, `12h`, `30d`) in milliseconds; with zero, a bare `0`
 * is accepted too (serve's `--retain 0`: keep everything). Anything else is a usage error.
 */
export const duration =
  (opts: { zero?: string } = {}) =>
  (value: string): number => {
    if (opts.zero !== undefined && value.trim() === "0") return 0;
    const m = /^(\d{1,9})([mhd])$/.exec(value.trim());
    const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : 0;
    if (ms <= 0) throw new InvalidArgumentError(`must be a duration above 0 such as 90m, 12h or 30d${opts.zero === undefined ? "" : `, or 0 ${opts.zero}`}`);
    return ms;
  };

/** A duration in the largest unit that divides it: 30d, 12h, 90m. */
export function formatDuration(ms: number): string {
  const unit = ms % UNIT_MS.d === 0 ? "d" : ms % UNIT_MS.h === 0 ? "h" : "m";
  return `${ms / UNIT_MS[unit]}${unit}`;
}
