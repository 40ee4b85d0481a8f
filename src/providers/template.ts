import { readdirSync, readFileSync } from "node:fs";
import { UsageError } from "../errors.js";
import { packageFile } from "../paths.js";
import { isObject } from "./schema.js";
import type { ProviderName } from "./types.js";

/**
 * Simulation templates are data (the Stripe CLI's fixtures/triggers): one JSON file per provider
 * and event under templates/, shaped like a real delivery, with `{{name}}` where a value changes
 * per payload. A string that is exactly one token takes the value with its type (a number stays
 * a number).
 */
export type Vars = Record<string, string | number>;

export function templateEvents(provider: ProviderName): string[] {
  return readdirSync(packageFile(`templates/${provider}`))
    .filter((n) => n.endsWith(".json"))
    .map((n) => n.slice(0, -".json".length))
    .sort();
}

/** Refuses an event without a template; only listed names reach the file system (no path tricks). */
export function requireTemplate(provider: ProviderName, event: string): void {
  const events = templateEvents(provider);
  if (!events.includes(event)) throw new UsageError(`no ${provider} template for ${event}`, `one of: ${events.join(", ")}`);
}

/** The template of the event with its tokens filled. */
export function buildFromTemplate(provider: ProviderName, event: string, vars: Vars): Record<string, unknown> {
  requireTemplate(provider, event);
  const raw: unknown = JSON.parse(readFileSync(packageFile(`templates/${provider}/${event}.json`), "utf8"));
  return fill(raw, vars) as Record<string, unknown>;
}

const TOKEN = /\{\{(\w+)\}\}/g;
const WHOLE = /^\{\{(\w+)\}\}$/;

function fill(value: unknown, vars: Vars): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value)?.[1];
    if (whole !== undefined) return lookup(vars, whole);
    return value.replace(TOKEN, (_, name: string) => String(lookup(vars, name)));
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
  return value;
}

function lookup(vars: Vars, name: string): string | number {
  if (!Object.hasOwn(vars, name)) throw new Error(`template token {{${name}}} has no value`);
  return vars[name]!;
}

/** The clock and randomness a simulated payload draws its fresh ids and times from. */
export interface Randomness {
  now: Date;
  random: (n: number) => Buffer;
}

/** A version 4 UUID from the injected randomness, as both trackers write GUIDs. */
export function guid(random: (n: number) => Buffer): string {
  const b = random(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A positive number below `below` from the injected randomness. */
export const randomBelow = (random: (n: number) => Buffer, below: number): number => 1 + (random(4).readUInt32BE(0) % (below - 1));

export interface Override {
  text: string;
  path: string[];
  value: unknown;
}

// Dots separate keys; brackets hold a key with dots in it or an index: resource.fields[System.State].newValue, items[0].
const PATH = /^(?:[^.[\]]+|\[[^\]]+\])(?:\.[^.[\]]+|\[[^\]]+\])*$/;
const SEGMENT = /\[([^\]]+)\]|([^.[\]]+)/g;
const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

/** `--set <path>=<value>`: the value is JSON when it parses as JSON, else the text itself. */
export function parseOverride(text: string): Override {
  const eq = text.indexOf("=");
  const path = eq > 0 ? text.slice(0, eq) : "";
  if (!PATH.test(path)) {
    throw new UsageError(`--set ${text}: expected <path>=<value>`, "e.g. --set resource.rev=4 or --set 'resource.fields[System.State].newValue=Closed'");
  }
  const segments = [...path.matchAll(SEGMENT)].map((m) => (m[1] ?? m[2])!);
  const bad = segments.find((s) => FORBIDDEN.has(s));
  if (bad) throw new UsageError(`--set ${text}: the key ${bad} is not allowed`, "name the payload's own fields");
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  return { text, path: segments, value };
}

/** Sets the value, creating missing objects on the way; a list takes an index up to its length. */
export function applyOverride(target: Record<string, unknown>, o: Override): void {
  let node: unknown = target;
  o.path.forEach((segment, i) => {
    const at = o.path.slice(0, i).join(".") || "the payload";
    let key: string | number = segment;
    if (Array.isArray(node)) {
      if (!/^\d+$/.test(segment) || Number(segment) > node.length) {
        throw new UsageError(`--set ${o.text}: ${at} is a list of ${node.length}`, `use an index from 0 to ${node.length}`);
      }
      key = Number(segment);
    } else if (!isObject(node)) {
      throw new UsageError(`--set ${o.text}: ${at} is ${node === null ? "null" : `a ${typeof node}`}, not an object`, "set a shorter path");
    }
    const container = node as Record<string | number, unknown>;
    if (i === o.path.length - 1) {
      container[key] = o.value;
      return;
    }
    const next = Object.hasOwn(container, key) ? container[key] : undefined;
    node = next === undefined || next === null ? (container[key] = {}) : next;
  });
}
