import * as v from "valibot";

/**
 * Validates unknown JSON once at the boundary. Valibot's `object` keeps only the declared keys
 * (others are dropped, never copied, so `__proto__` in a payload can pollute nothing) and is
 * cheap enough for replay's hot path (see bench/).
 */
export function check<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  prefix = "",
): { ok: true; value: v.InferOutput<S> } | { ok: false; reason: string } {
  const r = v.safeParse(schema, value, { abortEarly: true });
  if (r.success) return { ok: true, value: r.output };
  const issue = r.issues[0];
  const path = [prefix, v.getDotPath(issue)].filter(Boolean).join(".");
  return { ok: false, reason: `${path || "payload"}: expected ${issue.expected ?? "something else"}, got ${issue.received}` };
}

export const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

export const idString = v.pipe(
  v.union([v.string(), v.number()]),
  v.transform((x) => String(x)),
);
