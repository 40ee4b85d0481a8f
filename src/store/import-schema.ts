import * as v from "valibot";

const text = v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"));
const email = v.pipe(v.string(), v.trim(), v.email("must be an email address"));
const flag = v.optional(v.boolean());
const statuses = v.union(
  [text, v.pipe(v.array(text), v.minLength(1, "must list at least one status"))],
  "must be a status or a list of statuses",
);

/**
 * The import file of cli.md. Strict objects, so a misspelt key ("externalID") is an error at its
 * path instead of a silently missing value.
 */
export const importFileSchema = v.strictObject({
  organizations: v.optional(v.array(v.strictObject({ slug: text, name: text }))),
  projects: v.optional(v.array(v.strictObject({ slug: text, organization: text, name: v.optional(text) }))),
  users: v.optional(
    v.array(v.strictObject({ email, name: v.optional(v.nullable(v.string())), verified: flag })),
  ),
  members: v.optional(
    v.array(v.strictObject({ user: email, organization: text, projects: v.optional(v.array(text)) })),
  ),
  integrations: v.optional(
    v.array(
      v.strictObject({
        provider: v.picklist(["vsts", "jira"], 'must be "vsts" or "jira"'),
        externalId: text,
        name: text,
        baseUrl: v.optional(v.pipe(v.string(), v.url("must be a URL"))),
        organizations: v.optional(v.array(text)),
        webhookSecret: v.optional(v.pipe(v.string(), v.minLength(16, "must be at least 16 characters"))),
      }),
    ),
  ),
  sync: v.optional(
    v.array(
      v.strictObject({
        organization: text,
        integration: text,
        inboundAssignee: flag,
        inboundStatus: flag,
        outboundAssignee: flag,
        outboundStatus: flag,
      }),
    ),
  ),
  statusMappings: v.optional(
    v.array(
      v.strictObject({ integration: text, externalProject: text, resolvedStatus: statuses, unresolvedStatus: statuses }),
    ),
  ),
  issues: v.optional(
    v.array(
      v.strictObject({
        id: v.pipe(text, v.regex(/^[A-Za-z0-9][A-Za-z0-9_]*-\d+$/, "must look like BACKEND-1")),
        project: text,
        title: text,
        status: v.optional(v.picklist(["resolved", "unresolved"], 'must be "resolved" or "unresolved"')),
        assignee: v.optional(v.nullable(email)),
      }),
    ),
  ),
  links: v.optional(v.array(v.strictObject({ issue: text, integration: text, externalKey: text }))),
});

export type ImportFile = v.InferOutput<typeof importFileSchema>;

/** Every problem of a file, each as `path: message`. */
export function validateImport(value: unknown): { ok: true; value: ImportFile } | { ok: false; problems: string[] } {
  // Valibot's object schemas accept arrays; a file must be one JSON object.
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, problems: [`(top level): expected Object, got ${Array.isArray(value) ? "Array" : JSON.stringify(value)}`] };
  }
  const r = v.safeParse(importFileSchema, value);
  if (r.success) return { ok: true, value: r.output };
  return { ok: false, problems: r.issues.map(describe) };
}

function describe(issue: v.BaseIssue<unknown>): string {
  const path = jsonPath(issue.path?.map((p) => p.key as string | number) ?? []);
  if (issue.expected === "never") return `${path}: unknown key (the file's shape: 'hooksync import --schema', or docs/import.md)`;
  if (issue.kind === "schema" && issue.type !== "union") return `${path}: expected ${issue.expected}, got ${issue.received}`;
  return `${path}: ${issue.message}`;
}

/** `issues[0].id`, the way people write JSON paths. */
export function jsonPath(keys: readonly (string | number)[]): string {
  let out = "";
  for (const k of keys) out += typeof k === "number" ? `[${k}]` : out ? `.${k}` : k;
  return out || "(top level)";
}
