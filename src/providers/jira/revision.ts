import type { Revision } from "../../engine/types.js";
import { isObject } from "../schema.js";

// Jira writes times as yyyy-MM-dd'T'HH:mm:ss.SSSZ with an RFC 822 offset ("+0000"), which
// Date.parse reads only by the grace of V8's legacy parser; "Z" and "+00:00" are taken too.
const JIRA_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):?(\d{2}))$/;

/** Milliseconds since the epoch of a Jira time, or null for anything that is not one. */
export function jiraTime(text: string): number | null {
  const m = JIRA_TIME.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const millis = Number((m[7] ?? "").slice(0, 3).padEnd(3, "0"));
  const offsetHours = Number(m[9] ?? 0);
  const offsetMinutes = Number(m[10] ?? 0);
  // Date.UTC reads years below 100 as 19xx and rolls Feb 30 over to March: refuse what it would bend.
  if (year < 1970 || hour > 23 || minute > 59 || second > 59 || offsetHours > 14 || offsetMinutes > 59) return null;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const back = new Date(utc);
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return null;
  const offset = (m[8] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return utc - offset;
}

/** Within what a Date can show, so a reason can always print it. */
const usableTime = (ms: number | null | undefined): ms is number => typeof ms === "number" && Number.isSafeInteger(ms) && ms > 0 && ms <= 8.64e15;

/**
 * Rule 10.1: the payload's numeric `timestamp`, else `issue.fields.updated`. Read from the raw
 * body and never validated: a field no other rule uses must not refuse a payload.
 */
export function jiraRevision(timestamp: number | undefined, body: unknown): Revision | null {
  if (usableTime(timestamp)) return { kind: "time", value: timestamp };
  const issue = isObject(body) ? body.issue : undefined;
  const fields = isObject(issue) ? issue.fields : undefined;
  const updated = isObject(fields) && typeof fields.updated === "string" ? jiraTime(fields.updated) : null;
  return usableTime(updated) ? { kind: "time", value: updated } : null;
}
