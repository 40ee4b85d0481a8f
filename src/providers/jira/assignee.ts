import { isObject } from "../schema.js";

/**
 * The user an assignee change names when Jira hid the email (rule 3.5): an assignee changelog
 * item, `issue.fields.assignee` present but without `emailAddress`. Sync and cheap: replay asks
 * it of every payload.
 */
export function hiddenAssignee(body: unknown): { key?: string; name?: string } | undefined {
  if (!isObject(body) || !isObject(body.issue) || !isObject(body.issue.fields) || !isObject(body.changelog)) return undefined;
  const items = body.changelog.items;
  if (!Array.isArray(items) || !items.some((i) => isObject(i) && typeof i.field === "string" && i.field.toLowerCase() === "assignee")) return undefined;
  const a = body.issue.fields.assignee;
  if (!isObject(a) || (typeof a.emailAddress === "string" && a.emailAddress !== "")) return undefined;
  const key = typeof a.key === "string" && a.key ? a.key : undefined;
  const name = typeof a.name === "string" && a.name ? a.name : undefined;
  return key || name ? { ...(key ? { key } : {}), ...(name ? { name } : {}) } : undefined;
}

/** A copy of the body with the assignee's email filled in, as Jira sends it when it shows emails. */
export function withAssigneeEmail(body: unknown, email: string): unknown {
  const copy = structuredClone(body) as { issue: { fields: { assignee: Record<string, unknown> } } };
  copy.issue.fields.assignee.emailAddress = email;
  return copy;
}
