import { type KeyObject, createHmac, createPublicKey, randomBytes, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type FakeReply, type FakeRequest, type FakeServer, type Route, startFake } from "./server.js";

export interface FakeJiraUser {
  name: string;
  key: string;
  displayName: string;
  /** Empty: the user hides it (Jira's email visibility setting). */
  emailAddress: string;
  admin?: boolean;
}

export interface FakeWebhook {
  id: string;
  name: string;
  url: string;
  events: string[];
  filters: Record<string, string>;
  excludeBody: boolean;
  enabled: boolean;
  /** Jira 10: what it signs each delivery with (X-Hub-Signature). */
  secret?: string;
}

export interface JiraState {
  /** "9.12.0": webhooks at /rest/webhooks/1.0/webhook; "10.x": at /rest/jira-webhook/1.0/webhooks. */
  version: string;
  /** Consumer key -> the public key of its incoming application link. */
  consumers: Map<string, KeyObject>;
  users: FakeJiraUser[];
  requestTokens: Map<string, { secret: string; consumer: string; verifier?: string; user?: string; denied?: boolean }>;
  accessTokens: Map<string, { secret: string; consumer: string; user: string }>;
  /** Projects and the statuses of their workflows (GET /rest/api/2/project, /project/{id}/statuses). */
  projects: { id: string; key: string; issueTypes: { name: string; statuses: { id: string; name: string; category: "new" | "indeterminate" | "done" }[] }[] }[];
  /** Personal access tokens (Jira DC 8.14+, `Authorization: Bearer`) -> the user they act for. */
  personalTokens: Map<string, string>;
  webhooks: Map<string, FakeWebhook>;
  nextWebhookId: number;
  /** Every (consumer, token, timestamp, nonce) accepted: a second use is `nonce_used`. */
  nonces: Set<string>;
  /** Jira's clock in ms; timestamps more than `windowS` away are refused. */
  now: () => number;
  windowS: number;
  /** The base URL Jira believes it has (behind a proxy it differs from the one called). */
  selfUrl: string;
}

export interface JiraFake extends FakeServer<JiraState> {
  url: string;
  /** The user clicks Allow on the authorize page: returns the verification code Jira shows. */
  approve(requestToken: string, user?: string): string;
  deny(requestToken: string): void;
  /** An access token as if the OAuth dance had happened, for tests of the REST calls. */
  grant(consumer: string, user?: string): string;
  /**
   * Jira sends an event to the webhook's URL (its origin swapped for `to`, where the receiver
   * listens): Jira 10 signs the body with the webhook's secret, as `X-Hub-Signature: sha256=<hex>`.
   */
  fire(webhookId: string, body: string, to: string): Promise<{ status: number; body: unknown }>;
  /** A personal access token of that user, as made on Jira's profile page. */
  personalToken(user?: string): string;
  /** Wraps a route handler in Jira's checks for a REST call (OAuth1 signature, access token): for routes added from outside. */
  rest(handler: RestHandler): Route<JiraState>["handler"];
}

export type RestHandler = (req: FakeRequest, params: Record<string, string>, user: FakeJiraUser) => FakeReply;

export const TEST_KEY_PEM = readFileSync(join(import.meta.dirname, "..", "fixtures", "oauth", "testcase-rsa.pem"), "utf8");

export const DEFAULT_USERS: FakeJiraUser[] = [
  { name: "admin", key: "admin", displayName: "Alice Admin", emailAddress: "alice.admin@example.com", admin: true },
  { name: "jdoe", key: "JIRAUSER10400", displayName: "Jane Doe", emailAddress: "jane.doe@example.com" },
  { name: "hidden", key: "JIRAUSER10500", displayName: "Hidden Email", emailAddress: "" },
];

/** RFC 3986 percent-encoding as RFC 5849 §3.6 wants it. */
const pct = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The signature base string as the server rebuilds it (RFC 5849 §3.4.1), written apart from the
 * client's oauth-1.0a so a mistake in one is caught by the other.
 */
export function serverBaseString(method: string, selfUrl: string, req: FakeRequest, oauth: Map<string, string>): string {
  const params: [string, string][] = [...req.url.searchParams];
  for (const [k, v] of oauth) if (k !== "oauth_signature" && k !== "realm") params.push([k, v]);
  if ((req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) params.push(...new URLSearchParams(req.body));
  const enc = params.map(([k, v]) => [pct(k), pct(v)] as const).sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  const uri = new URL(req.url.pathname, selfUrl);
  return `${method.toUpperCase()}&${pct(`${uri.protocol}//${uri.host}${uri.pathname}`)}&${pct(enc.map(([k, v]) => `${k}=${v}`).join("&"))}`;
}

export function parseOAuthHeader(header: string | undefined): Map<string, string> | undefined {
  if (!header || !/^OAuth\s/i.test(header)) return undefined;
  const out = new Map<string, string>();
  for (const m of header.matchAll(/([\w-]+)="([^"]*)"/g)) out.set(m[1]!, decodeURIComponent(m[2]!));
  return out;
}

/** Jira's OAuth failure: 401, the problem in WWW-Authenticate and in a form-encoded body (D.5). */
export function oauthProblem(state: JiraState, problem: string, extra: Record<string, string> = {}): FakeReply {
  const all = { oauth_problem: problem, ...extra };
  const header = Object.entries(all)
    .map(([k, v]) => `${k}="${pct(v)}"`)
    .join(", ");
  return {
    status: 401,
    headers: { "www-authenticate": `OAuth realm="${pct(state.selfUrl)}", ${header}`, "content-type": "text/plain" },
    body: new URLSearchParams(all).toString(),
  };
}

const jiraError = (status: number, message: string): FakeReply => ({ status, body: { errorMessages: [message], errors: {} } });

type Verified = { ok: true; consumer: string; token?: string } | { ok: false; reply: FakeReply };

/** The checks of D.6: consumer known, timestamp in the window, nonce unused, signature verifies. */
function verifyOAuth(state: JiraState, req: FakeRequest): Verified | undefined {
  const p = parseOAuthHeader(req.headers.authorization);
  if (!p) return undefined;
  const fail = (problem: string, extra?: Record<string, string>): Verified => ({ ok: false, reply: oauthProblem(state, problem, extra) });
  const absent = ["oauth_consumer_key", "oauth_signature_method", "oauth_signature", "oauth_timestamp", "oauth_nonce"].filter((k) => !p.get(k));
  if (absent.length) return fail("parameter_absent", { oauth_parameters_absent: absent.join("&") });
  if (p.get("oauth_version") && p.get("oauth_version") !== "1.0") return fail("version_rejected");
  if (p.get("oauth_signature_method") !== "RSA-SHA1") return fail("signature_method_rejected");
  const consumer = p.get("oauth_consumer_key")!;
  const key = state.consumers.get(consumer);
  if (!key) return fail("consumer_key_unknown");
  const now = Math.floor(state.now() / 1000);
  const ts = Number(p.get("oauth_timestamp"));
  if (!Number.isInteger(ts) || Math.abs(ts - now) > state.windowS) {
    return fail("timestamp_refused", { oauth_acceptable_timestamps: `${now - state.windowS}-${now + state.windowS}` });
  }
  const base = serverBaseString(req.method, state.selfUrl, req, p);
  if (!verify("RSA-SHA1", Buffer.from(base), key, Buffer.from(p.get("oauth_signature")!, "base64"))) {
    return fail("signature_invalid", { oauth_signature_base_string: base, oauth_signature: p.get("oauth_signature")! });
  }
  const token = p.get("oauth_token");
  const once = `${consumer}:${token ?? ""}:${ts}:${p.get("oauth_nonce")}`;
  if (state.nonces.has(once)) return fail("nonce_used");
  state.nonces.add(once);
  return { ok: true, consumer, ...(token ? { token } : {}) };
}

export const publicUser = (u: FakeJiraUser, selfUrl: string) => ({
  self: `${selfUrl}/rest/api/2/user?username=${u.name}`,
  name: u.name,
  key: u.key,
  ...(u.emailAddress ? { emailAddress: u.emailAddress } : {}),
  displayName: u.displayName,
  active: true,
  timeZone: "Europe/London",
});

/**
 * A fake Jira Server (protocols.md C.1, C.4, D): the OAuth 1.0a servlet with real RSA-SHA1
 * verification, REST calls signed with an access token, webhooks kept in state at the path the
 * version dictates.
 */
export async function startJira(
  o: { version?: string; consumers?: Record<string, string>; users?: FakeJiraUser[]; now?: () => number; selfUrl?: string } = {},
): Promise<JiraFake> {
  const state: JiraState = {
    version: o.version ?? "9.12.0",
    consumers: new Map(Object.entries(o.consumers ?? { hooksync: TEST_KEY_PEM }).map(([k, pem]) => [k, createPublicKey(pem)])),
    users: o.users ?? DEFAULT_USERS.map((u) => ({ ...u })),
    requestTokens: new Map(),
    accessTokens: new Map(),
    personalTokens: new Map(),
    projects: [],
    webhooks: new Map(),
    nextWebhookId: 1,
    nonces: new Set(),
    now: o.now ?? Date.now,
    windowS: 300,
    selfUrl: "",
  };
  const token = () => randomBytes(12).toString("hex");
  const form = (o: Record<string, string>): FakeReply => ({ status: 200, headers: { "content-type": "text/plain" }, body: new URLSearchParams(o).toString() });

  /** REST needs a valid access token; Jira answers an unsigned request as anonymous, and these resources need a user. */
  const rest =
    (handler: RestHandler): Route<JiraState>["handler"] =>
    (req, params) => {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      if (bearer !== undefined) {
        const user = state.users.find((u) => u.name === state.personalTokens.get(bearer));
        return user ? handler(req, params, user) : { status: 401, headers: { "x-seraph-loginreason": "AUTHENTICATED_FAILED" }, body: { errorMessages: ["Client must be authenticated to access this resource."], errors: {} } };
      }
      const v = verifyOAuth(state, req);
      if (!v) return { status: 401, body: { errorMessages: ["You are not authenticated. Authentication required to perform this operation."], errors: {} } };
      if (!v.ok) return v.reply;
      const access = v.token ? state.accessTokens.get(v.token) : undefined;
      if (!access || access.consumer !== v.consumer) return oauthProblem(state, "token_rejected");
      return handler(req, params, state.users.find((u) => u.name === access.user)!);
    };

  const webhookPath = () => (Number(state.version.split(".")[0]) >= 10 ? "/rest/jira-webhook/1.0/webhooks" : "/rest/webhooks/1.0/webhook");
  const jira10 = () => Number(state.version.split(".")[0]) >= 10;
  /** Each version answers in its own shape: Jira 10 has a numeric id, `active` and `configuration`, and never shows the secret. */
  const hookAnswer = (w: FakeWebhook) =>
    jira10()
      ? {
          id: Number(w.id),
          name: w.name,
          url: w.url,
          active: w.enabled,
          events: w.events,
          configuration: { FILTERS: w.filters["issue-related-events-section"] ?? "", EXCLUDE_BODY: String(w.excludeBody) },
          scopeType: "global",
          sslVerificationRequired: true,
          createdDate: 1709280000123,
          updatedDate: 1709280000123,
        }
      : {
          name: w.name,
          url: w.url,
          excludeBody: w.excludeBody,
          filters: w.filters,
          events: w.events,
          enabled: w.enabled,
          self: `${state.selfUrl}${webhookPath()}/${w.id}`,
          lastUpdatedUser: "admin",
          lastUpdatedDisplayName: "Alice Admin",
          lastUpdated: 1709280000123,
        };
  /**
   * The body the version takes, and only that: Jira 10 reads the JQL from configuration.FILTERS and
   * silently ignores a 9.x `filters` (JRASERVER-78733), so this fake refuses one rather than fire
   * for every issue; Jira 9 has no configuration and no secret.
   */
  const checkHook = (req: FakeRequest): FakeWebhook | FakeReply => {
    const b = req.json<Record<string, unknown>>();
    const bad = (key: string, message: string): FakeReply => ({ status: 400, body: { messages: [{ key, message }] } });
    if (typeof b.name !== "string" || !b.name) return bad("webhooks.empty.name", "The name of the WebHook must not be empty.");
    if (typeof b.url !== "string" || !/^https?:\/\/[^/]+/.test(b.url)) return bad("webhooks.invalid.url", "The URL of the WebHook is not valid.");
    if (!Array.isArray(b.events) || b.events.length === 0 || !b.events.every((e) => typeof e === "string")) return bad("webhooks.empty.events", "A WebHook needs events.");
    const base = { id: "", name: b.name, url: b.url, events: b.events as string[] };
    if (jira10()) {
      const stale = ["filters", "excludeBody", "excludeIssueDetails", "enabled"].find((k) => k in b);
      if (stale) return bad("webhooks.unknown.field", `Unrecognized field "${stale}": Jira 10 reads configuration.FILTERS and configuration.EXCLUDE_BODY.`);
      const conf = b.configuration as Record<string, unknown> | undefined;
      if (typeof conf !== "object" || conf === null || Object.values(conf).some((v) => typeof v !== "string")) {
        return bad("webhooks.invalid.configuration", "configuration must map names to strings.");
      }
      return {
        ...base,
        filters: { "issue-related-events-section": (conf.FILTERS as string | undefined) ?? "" },
        excludeBody: conf.EXCLUDE_BODY === "true",
        enabled: b.active !== false,
        ...(conf.secret ? { secret: conf.secret as string } : {}),
      };
    }
    const newer = ["configuration", "secret", "active"].find((k) => k in b);
    if (newer) return bad("webhooks.unknown.field", `Unrecognized field "${newer}" (Jira ${state.version}).`);
    return { ...base, filters: (b.filters ?? {}) as Record<string, string>, excludeBody: b.excludeBody === true, enabled: b.enabled !== false };
  };
  /** Both webhook resources exist as routes; the one the version does not have answers 404. */
  const hooks =
    (path: string, handler: (req: FakeRequest, params: Record<string, string>, user: FakeJiraUser) => FakeReply): Route<JiraState>["handler"] =>
    (req, params) =>
      path !== webhookPath() ? jiraError(404, `null for uri: ${req.url.href}`) : rest((r, p, user) => (user.admin ? handler(r, p, user) : forbidden(r)))(req, params, state);
  const forbidden = (req: FakeRequest): FakeReply => ({
    status: 403,
    body: { messages: [{ key: `You do not have permission to ${req.method === "GET" ? "view" : "create"} WebHook '${safeName(req)}'.` }] },
  });

  /** A step of the OAuth dance: the request signed (absent: the parameter named missing without a header), then handler. */
  const dance =
    (absent: string, handler: (req: FakeRequest, v: Extract<Verified, { ok: true }>) => FakeReply): Route<JiraState>["handler"] =>
    (req) => {
      const v = verifyOAuth(state, req);
      if (!v) return oauthProblem(state, "parameter_absent", { oauth_parameters_absent: absent });
      return v.ok ? handler(req, v) : v.reply;
    };

  const routes: Route<JiraState>[] = [
    {
      method: "POST",
      path: "/plugins/servlet/oauth/request-token",
      handler: dance("oauth_consumer_key", (_req, v) => {
        const t = token();
        state.requestTokens.set(t, { secret: token(), consumer: v.consumer });
        return form({ oauth_token: t, oauth_token_secret: state.requestTokens.get(t)!.secret, oauth_callback_confirmed: "true" });
      }),
    },
    {
      method: "GET",
      path: "/plugins/servlet/oauth/authorize",
      handler: (req) => ({
        status: state.requestTokens.has(req.url.searchParams.get("oauth_token") ?? "") ? 200 : 400,
        headers: { "content-type": "text/html" },
        body: "<html><body>Welcome to Jira: allow hooksync to access your account? <button>Allow</button> <button>Deny</button></body></html>",
      }),
    },
    {
      method: "POST",
      path: "/plugins/servlet/oauth/access-token",
      handler: dance("oauth_token", (req, v) => {
        const rt = v.token ? state.requestTokens.get(v.token) : undefined;
        if (!rt || rt.consumer !== v.consumer) return oauthProblem(state, "token_rejected");
        if (rt.denied) return oauthProblem(state, "permission_denied");
        if (!rt.user) return oauthProblem(state, "permission_unknown");
        if (parseOAuthHeader(req.headers.authorization)!.get("oauth_verifier") !== rt.verifier) return oauthProblem(state, "token_rejected");
        state.requestTokens.delete(v.token!);
        const t = token();
        state.accessTokens.set(t, { secret: token(), consumer: v.consumer, user: rt.user });
        return form({
          oauth_token: t,
          oauth_token_secret: state.accessTokens.get(t)!.secret,
          oauth_expires_in: "157680000",
          oauth_session_handle: token(),
          oauth_authorization_expires_in: "160272000",
        });
      }),
    },
    {
      method: "GET",
      path: "/rest/api/2/serverInfo",
      handler: () => ({
        status: 200,
        body: { baseUrl: state.selfUrl, version: state.version, versionNumbers: state.version.split(".").map(Number), deploymentType: "Server", serverTitle: "Fake Jira" },
      }),
    },
    {
      method: "GET",
      path: "/rest/api/2/myself",
      handler: rest((_req, _p, u) => ({ status: 200, body: { ...publicUser(u, state.selfUrl), locale: "en_GB", groups: { size: 1, items: [] }, expand: "groups,applicationRoles" } })),
    },
    { method: "GET", path: "/rest/api/2/project", handler: rest(() => ({ status: 200, body: state.projects.map((p) => ({ id: p.id, key: p.key, name: p.key })) })) },
    {
      method: "GET",
      path: "/rest/api/2/project/:id/statuses",
      handler: rest((_req, p) => {
        const project = state.projects.find((x) => x.id === p.id || x.key === p.id);
        if (!project) return jiraError(404, `No project could be found with key '${p.id}'.`);
        const category = { new: { id: 2, key: "new" }, indeterminate: { id: 4, key: "indeterminate" }, done: { id: 3, key: "done" } };
        const body = project.issueTypes.map((t) => ({ name: t.name, subtask: false, statuses: t.statuses.map((s) => ({ id: s.id, name: s.name, statusCategory: category[s.category] })) }));
        return { status: 200, body };
      }),
    },
    {
      method: "GET",
      path: "/rest/api/2/user",
      handler: rest((req) => {
        const key = req.url.searchParams.get("key");
        const name = req.url.searchParams.get("username");
        const u = state.users.find((x) => (key !== null ? x.key === key : x.name === name));
        return u ? { status: 200, body: publicUser(u, state.selfUrl) } : jiraError(404, `The user named '${key ?? name}' does not exist`);
      }),
    },
    ...["/rest/webhooks/1.0/webhook", "/rest/jira-webhook/1.0/webhooks"].flatMap((path): Route<JiraState>[] => [
      { method: "GET", path, handler: hooks(path, () => ({ status: 200, body: [...state.webhooks.values()].map(hookAnswer) })) },
      {
        method: "POST",
        path,
        handler: hooks(path, (req) => {
          const w = checkHook(req);
          if ("status" in w) return w;
          w.id = String(state.nextWebhookId++);
          state.webhooks.set(w.id, w);
          return { status: 201, body: hookAnswer(w) };
        }),
      },
      {
        method: "GET",
        path: `${path}/:id`,
        handler: hooks(path, (_req, p) => {
          const w = state.webhooks.get(p.id!);
          return w ? { status: 200, body: hookAnswer(w) } : jiraError(404, "Webhook not found");
        }),
      },
      {
        method: "PUT",
        path: `${path}/:id`,
        handler: hooks(path, (req, p) => {
          if (!state.webhooks.has(p.id!)) return jiraError(404, "Webhook not found");
          const w = checkHook(req);
          if ("status" in w) return w;
          w.id = p.id!;
          state.webhooks.set(w.id, w);
          return { status: 200, body: hookAnswer(w) };
        }),
      },
      {
        method: "DELETE",
        path: `${path}/:id`,
        handler: hooks(path, (_req, p) => (state.webhooks.delete(p.id!) ? { status: 204 } : jiraError(404, "Webhook not found"))),
      },
    ]),
  ];

  const server = await startFake<JiraState>({ state, routes, notFound: (req) => jiraError(404, `null for uri: ${req.url.href}`) });
  state.selfUrl = o.selfUrl ?? server.origin;
  const fake: JiraFake = Object.assign(server, {
    url: server.origin,
    approve: (requestToken: string, user = "admin") => {
      const rt = state.requestTokens.get(requestToken);
      if (!rt) throw new Error(`fake Jira: no request token ${requestToken}`);
      rt.user = user;
      rt.verifier = randomBytes(3).toString("hex");
      return rt.verifier;
    },
    deny: (requestToken: string) => {
      const rt = state.requestTokens.get(requestToken);
      if (rt) rt.denied = true;
    },
    grant: (consumer: string, user = "admin") => {
      const t = token();
      state.accessTokens.set(t, { secret: token(), consumer, user });
      return t;
    },
    fire: async (webhookId: string, body: string, to: string) => {
      const w = state.webhooks.get(webhookId);
      if (!w) throw new Error(`fake Jira: no webhook ${webhookId}`);
      const target = new URL(w.url);
      const headers: Record<string, string> = { "content-type": "application/json; charset=UTF-8" };
      if (w.secret) headers["x-hub-signature"] = `sha256=${createHmac("sha256", w.secret).update(body).digest("hex")}`;
      const res = await fetch(`${to}${target.pathname}${target.search}`, { method: "POST", headers, body });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    personalToken: (user = "admin") => {
      const t = `pat-${token()}`;
      state.personalTokens.set(t, user);
      return t;
    },
    rest,
  });
  return fake;
}

function safeName(req: FakeRequest): string {
  try {
    return String(req.json<{ name?: string }>().name ?? "");
  } catch {
    return "";
  }
}
