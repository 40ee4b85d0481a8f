import type { JiraWebhook, JiraWebhookBody } from "./client.js";

/** The webhook resources: Jira 10 moved it (Sentry issues #88722, #92806) and changed its shapes. */
export const LEGACY_WEBHOOKS = "/rest/webhooks/1.0/webhook";
export const JIRA10_WEBHOOKS = "/rest/jira-webhook/1.0/webhooks";

export const ISSUE_FILTER = "issue-related-events-section";

/** The major version serverInfo reports (0 when it does not say). */
export const majorVersion = (info: { versionNumbers?: number[] }): number => info.versionNumbers?.[0] ?? 0;

/**
 * A webhook as Jira 10 takes it: JQL and excludeBody are configuration entries (FILTERS,
 * EXCLUDE_BODY, as strings); the 9.x `filters` object is silently ignored there (JRASERVER-78733),
 * so the hook would fire for every issue. The secret makes Jira sign each delivery (X-Hub-Signature).
 */
export function jira10Body(body: JiraWebhookBody): Record<string, unknown> {
  return {
    name: body.name,
    url: body.url,
    events: body.events,
    active: true,
    configuration: {
      FILTERS: body.filters?.[ISSUE_FILTER] ?? "",
      EXCLUDE_BODY: String(body.excludeBody),
      ...(body.secret ? { secret: body.secret } : {}),
    },
  };
}

/** The 9.x body: Jira 9 knows no secret, its deliveries are verified by the JWT in the URL. */
export function legacyBody(body: JiraWebhookBody): Record<string, unknown> {
  const { secret: _none, ...rest } = body;
  return rest;
}

type Raw = Record<string, unknown> & { id?: string | number; self?: string };

/** Either version's answer in one shape: Jira 10's configuration and active read as filters, excludeBody and enabled. */
export function fromWire(raw: Raw): Omit<JiraWebhook, "id"> & { id?: string | number } {
  const conf = raw.configuration as Record<string, unknown> | undefined;
  if (!conf) return raw as unknown as Omit<JiraWebhook, "id">;
  return {
    ...(raw.id !== undefined ? { id: raw.id } : {}),
    name: String(raw.name ?? ""),
    url: String(raw.url ?? ""),
    events: Array.isArray(raw.events) ? (raw.events as string[]) : [],
    filters: { [ISSUE_FILTER]: typeof conf.FILTERS === "string" ? conf.FILTERS : "" },
    excludeBody: conf.EXCLUDE_BODY === "true" || conf.EXCLUDE_BODY === true,
    enabled: raw.active !== false,
    ...(raw.self ? { self: raw.self } : {}),
  };
}
