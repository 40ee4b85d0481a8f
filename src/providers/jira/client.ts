import { UpstreamError } from "../../errors.js";
import { type BaseHttpOptions, HttpClient, type HttpRequest, parseJson } from "../../http/client.js";
import { bodyDetail } from "../../http/errors.js";
import { type JiraAuth, isJiraToken } from "../../config/credentials.js";
import type { Deps } from "../../deps.js";
import { JIRA10_WEBHOOKS, LEGACY_WEBHOOKS, fromWire, jira10Body, legacyBody, majorVersion } from "./webhook-shapes.js";
import { OAuthSigner, loadPrivateKey, oauthProblemError, readOAuthProblem, stageOf } from "./oauth.js";

export interface JiraUser {
  name?: string;
  key?: string;
  emailAddress?: string;
  displayName?: string;
  active?: boolean;
}

export interface JiraWebhookBody {
  name: string;
  url: string;
  events: string[];
  filters?: Record<string, string>;
  excludeBody: boolean;
  /** Jira 10 signs every delivery with it; Jira 9 has no such field. */
  secret?: string;
}

export interface JiraWebhook extends JiraWebhookBody {
  /** The trailing segment of `self`: Jira's answers carry no id field of their own. */
  id: string;
  enabled?: boolean;
  self?: string;
  lastUpdatedUser?: string;
  lastUpdated?: number;
}


/** A Jira issue with the fields search and link read. */
export interface JiraIssue {
  key: string;
  fields?: {
    summary?: string;
    status?: { name?: string } | null;
    assignee?: JiraUser | null;
  };
}

const ISSUE_FIELDS = "summary,status,assignee";

const NOT_FOUND = { message: "Jira has no such resource", hint: "check the Jira base URL, including any context path such as /jira" };

const REFUSED_PAT = {
  message: "Jira refused the personal access token",
  hint: "it may have expired or been revoked: make a new one (Jira profile > Personal Access Tokens) and run 'hooksync login jira --token-stdin' again, or set JIRA_API_TOKEN",
};

/**
 * The HTTP client with Jira's words for its errors: every `oauth_problem` when signing with OAuth
 * (consumerKey given), and the usual statuses.
 */
export function jiraHttp(base: BaseHttpOptions, consumerKey?: string): HttpClient {
  return new HttpClient({
    ...base,
    service: "Jira",
    advice: {
      401: consumerKey === undefined ? REFUSED_PAT : { message: "Jira refused the OAuth credentials", hint: "run 'hooksync oauth jira' again" },
      403: {
        message: "Jira denied it",
        hint: "the signed-in Jira user lacks the permission: webhooks need a Jira System Administrator (sign in as one with 'hooksync oauth jira')",
      },
      404: NOT_FOUND,
    },
    readError: (res, req) => {
      if (consumerKey === undefined) return undefined;
      const problem = readOAuthProblem(res);
      return problem && oauthProblemError(problem, stageOf(req.url), consumerKey, req.url);
    },
  });
}

/** A signer with a fresh nonce from the injected randomness and the injected clock's seconds. */
export function signerFor(deps: Pick<Deps, "randomBytes" | "now">, consumerKey: string, privateKeyPem: string, source: string): OAuthSigner {
  return new OAuthSigner({
    consumerKey,
    privateKey: loadPrivateKey(privateKeyPem, source),
    nonce: () => deps.randomBytes(16).toString("hex"),
    timestamp: () => Math.floor(deps.now().getTime() / 1000),
  });
}

/** A personal access token rides every request as it is; OAuth signs each attempt anew. */
export const bearer = (token: string): Sign => () => ({ authorization: `Bearer ${token}` });

type Sign = NonNullable<HttpRequest["sign"]>;

/** The client for whichever way the integration signs in: OAuth 1.0a or a personal access token. */
export function clientFromCredentials(creds: JiraAuth, base: BaseHttpOptions, deps: Pick<Deps, "randomBytes" | "now">): JiraClient {
  if (isJiraToken(creds)) return new JiraClient(jiraHttp(base), creds.baseUrl, bearer(creds.token));
  const signer = signerFor(deps, creds.consumerKey, creds.privateKey, "the stored private key");
  return new JiraClient(jiraHttp(base, creds.consumerKey), creds.baseUrl, signer.signWith(creds.accessToken));
}

/** Jira Server's REST, every call authenticated the integration's way (sign). */
export class JiraClient {
  private major?: Promise<number>;

  constructor(
    private readonly http: HttpClient,
    readonly baseUrl: string,
    private readonly sign: Sign,
  ) {}

  private call(method: HttpRequest["method"], path: string, what: string, extra: Partial<HttpRequest> = {}): HttpRequest {
    return { method, url: new URL(`${this.baseUrl}${path}`), what, sign: this.sign, ...extra };
  }

  async serverInfo(): Promise<{ version?: string; versionNumbers?: number[] }> {
    return this.http.json(this.call("GET", "/rest/api/2/serverInfo", "read the server info"));
  }

  /** Whether this is Jira 10 or later (the webhook resource, its shapes, signed deliveries), read once from serverInfo. */
  async isJira10(): Promise<boolean> {
    return (await (this.major ??= this.serverInfo().then(majorVersion))) >= 10;
  }

  /** Which webhook resource this server has. */
  async webhooks(): Promise<string> {
    return (await this.isJira10()) ? JIRA10_WEBHOOKS : LEGACY_WEBHOOKS;
  }

  private async wire(body: JiraWebhookBody): Promise<Record<string, unknown>> {
    return (await this.isJira10()) ? jira10Body(body) : legacyBody(body);
  }

  async listWebhooks(): Promise<JiraWebhook[]> {
    const raw = await this.http.json<unknown>(this.call("GET", await this.webhooks(), "list webhooks"));
    const list = Array.isArray(raw) ? raw : Array.isArray((raw as { values?: unknown })?.values) ? (raw as { values: unknown[] }).values : null;
    if (!list) throw new UpstreamError("Jira's webhook list is not a list", "is the Jira base URL right?");
    return list.map((w) => withId(fromWire(w as Record<string, unknown>)));
  }

  /** Jira answers 201 with the webhook, or (some versions) 204 with nothing: then it is found by name. */
  async createWebhook(body: JiraWebhookBody): Promise<JiraWebhook> {
    const res = await this.http.request(this.call("POST", await this.webhooks(), "create the webhook", { json: await this.wire(body) }));
    if (res.text.trim()) return withId(fromWire(parseJson(res, "Jira", "create the webhook")));
    const created = (await this.listWebhooks()).find((w) => w.name === body.name && w.url === body.url);
    if (!created) throw new UpstreamError("Jira accepted the webhook but does not list it", "run 'hooksync subscriptions jira' to look");
    return created;
  }

  async updateWebhook(id: string, body: JiraWebhookBody): Promise<JiraWebhook> {
    const res = await this.http.request(this.call("PUT", `${await this.webhooks()}/${encodeURIComponent(id)}`, "update the webhook", { json: await this.wire(body) }));
    const { secret: _kept, ...shown } = body;
    return res.text.trim() ? withId({ ...fromWire(parseJson(res, "Jira", "update the webhook")), id }) : { ...shown, id };
  }

  /** False when Jira no longer has it. */
  async deleteWebhook(id: string): Promise<boolean> {
    const res = await this.http.request(this.call("DELETE", `${await this.webhooks()}/${encodeURIComponent(id)}`, "delete the webhook", { accept: [404] }));
    return res.status !== 404;
  }

  /** A GET of a REST resource, for readers kept beside this client. */
  get<T>(path: string, what: string): Promise<T> {
    return this.http.json(this.call("GET", path, what));
  }

  async myself(): Promise<JiraUser> {
    return this.http.json(this.call("GET", "/rest/api/2/myself", "check the access token (GET /rest/api/2/myself)"));
  }

  /** A user by key (stable across renames) or by user name; undefined when Jira has none. */
  async user(by: { key: string } | { username: string }): Promise<JiraUser | undefined> {
    const query = "key" in by ? `key=${encodeURIComponent(by.key)}` : `username=${encodeURIComponent(by.username)}`;
    const res = await this.http.request(
      this.call("GET", `/rest/api/2/user?${query}`, "look up a user", { headers: { accept: "application/json" }, accept: [404] }),
    );
    return res.status === 404 ? undefined : parseJson<JiraUser>(res, "Jira", "look up a user");
  }

  /** Undefined when there is no such issue, or the signed-in user may not see it: Jira answers 404 to both. */
  async issue(key: string): Promise<JiraIssue | undefined> {
    const what = `read issue ${key}`;
    const res = await this.http.request(
      this.call("GET", `/rest/api/2/issue/${encodeURIComponent(key)}?fields=${ISSUE_FIELDS}`, what, { headers: { accept: "application/json" }, accept: [404] }),
    );
    if (res.status !== 404) return parseJson<JiraIssue>(res, "Jira", what);
    // "Issue does not exist or you do not have permission to see it."; any other 404 is a wrong base URL.
    if (/does not exist/i.test(bodyDetail(res.text, res.headers["content-type"]) ?? "")) return undefined;
    throw new UpstreamError(`${NOT_FOUND.message} (HTTP 404 on ${what})`, NOT_FOUND.hint);
  }

  /** The issues a JQL query selects, at most max. */
  async search(jql: string, max: number): Promise<JiraIssue[]> {
    const query = new URLSearchParams({ jql, maxResults: String(max), fields: ISSUE_FIELDS });
    const res = await this.http.json<{ issues?: JiraIssue[] }>(this.call("GET", `/rest/api/2/search?${query}`, "search issues"));
    return res.issues ?? [];
  }

  /** Users who may be assigned the issue; Jira Server matches the query against user name, display name and email. */
  async assignableUsers(key: string, query: string): Promise<JiraUser[]> {
    const q = new URLSearchParams({ issueKey: key, username: query });
    return this.http.json(this.call("GET", `/rest/api/2/user/assignable/search?${q}`, `find a user assignable to ${key}`));
  }

  /** Assigns the issue to a user name; null unassigns it. */
  async assign(key: string, name: string | null): Promise<void> {
    await this.http.request(this.call("PUT", `/rest/api/2/issue/${encodeURIComponent(key)}/assignee`, `assign ${key}`, { json: { name } }));
  }

  /** The issue's status and the id of its project (the key of its status mapping). */
  async statusOf(key: string): Promise<{ status: JiraStatus; projectId: string }> {
    const what = `read the status of ${key}`;
    const issue = await this.http.json<{ fields?: { status?: JiraStatus; project?: { id?: string } } }>(
      this.call("GET", `/rest/api/2/issue/${encodeURIComponent(key)}?fields=status,project`, what),
    );
    const status = issue.fields?.status;
    const projectId = issue.fields?.project?.id;
    if (!status?.id || !projectId) throw new UpstreamError(`Jira answered ${what} without its status or project`, "is the Jira base URL right?");
    return { status, projectId };
  }

  /** The transitions the issue's workflow offers from its current status. */
  async transitions(key: string): Promise<JiraTransition[]> {
    const res = await this.http.json<{ transitions?: JiraTransition[] }>(this.call("GET", `/rest/api/2/issue/${encodeURIComponent(key)}/transitions`, `list the transitions of ${key}`));
    return res.transitions ?? [];
  }

  /** Not repeated on a lost answer: a transition done twice can move the issue on again. */
  async transition(key: string, id: string): Promise<void> {
    await this.http.request(this.call("POST", `/rest/api/2/issue/${encodeURIComponent(key)}/transitions`, `move ${key}`, { json: { transition: { id } } }));
  }
}

export interface JiraStatus {
  id: string;
  name?: string;
}

export interface JiraTransition {
  id: string;
  name?: string;
  /** Absent on some global transitions (the fixture's "Kicked"). */
  to?: JiraStatus;
}

function withId(w: Omit<JiraWebhook, "id"> & { id?: string | number }): JiraWebhook {
  const id = w.id !== undefined ? String(w.id) : w.self?.split("/").filter(Boolean).pop();
  if (!id) throw new UpstreamError("Jira answered with a webhook that has neither id nor self", "is the Jira base URL right?");
  return { ...w, id };
}
