import { AuthError, UpstreamError } from "../../errors.js";
import { type BaseHttpOptions, HttpClient, type HttpRequest, type HttpResponse } from "../../http/client.js";
import { type VstsAuth, authorization, refusedHint } from "./auth.js";
import { searchBaseUrl } from "./search-url.js";

export { searchBaseUrl };


export const PUBLISHER = "tfs";
export const CONSUMER = "webHooks";
export const CONSUMER_ACTION = "httpRequest";
const API_VERSION = "7.1";
/** testnotifications is only published as a preview (protocols.md A.1). */
const TEST_API_VERSION = "7.1-preview.1";
/** Work item search too: the 7.1 and 7.2 specifications publish it only as a preview. */
const SEARCH_API_VERSION = "7.1-preview.1";
export const SECRET_HEADER = "shared-secret";

export interface SubscriptionBody {
  publisherId: string;
  eventType: string;
  resourceVersion: string;
  consumerId: string;
  consumerActionId: string;
  publisherInputs: Record<string, string>;
  consumerInputs: Record<string, string>;
}

export type SubscriptionStatus = "enabled" | "onProbation" | "disabledByUser" | "disabledBySystem" | "disabledByInactiveIdentity";

export interface Subscription extends SubscriptionBody {
  id: string;
  /** Older servers leave it out when enabled. */
  status?: SubscriptionStatus;
  probationRetries?: number;
  createdDate?: string;
  modifiedDate?: string;
  [more: string]: unknown;
}

export interface Notification {
  id: number;
  subscriptionId?: string;
  status?: string;
  result?: string;
  [more: string]: unknown;
}

/**
 * The body hooksync wants: resource version 1.0 so identities arrive as "Name <email>" strings
 * (the parser also reads objects), every detail of the resource, the secret as one header line.
 */
export function subscriptionBody(o: { eventType: string; url: string; secret: string; projectId?: string }): SubscriptionBody {
  return {
    publisherId: PUBLISHER,
    eventType: o.eventType,
    resourceVersion: "1.0",
    consumerId: CONSUMER,
    consumerActionId: CONSUMER_ACTION,
    publisherInputs: o.projectId ? { projectId: o.projectId } : {},
    consumerInputs: { url: o.url, httpHeaders: `${SECRET_HEADER}:${o.secret}`, resourceDetailsToSend: "all", messagesToSend: "none", detailedMessagesToSend: "none" },
  };
}

const SECRET_INPUTS = ["httpHeaders", "basicAuthPassword"];

/** A subscription fit to print: secret inputs masked the way Azure DevOps masks them itself. */
export function masked<T extends SubscriptionBody>(s: T): T {
  const consumerInputs = { ...s.consumerInputs };
  for (const k of SECRET_INPUTS) if (consumerInputs[k] !== undefined) consumerInputs[k] = "********";
  return { ...s, consumerInputs };
}

const NOT_FOUND = { message: "no such organization or project", hint: "check the integration's baseUrl (https://dev.azure.com/<organization>) and --project" };

/** What the calls need of the token, for the hints of a 401 or 403. */
export type VstsAccess = "hooks" | "work items" | "work item updates";

const NEEDS: Record<VstsAccess, { scopes: string; permission: string }> = {
  hooks: { scopes: "Service Hooks: read & write", permission: "the \"Edit subscriptions\" service-hooks permission (project administrators have it)" },
  "work items": { scopes: "Work Items: read", permission: "permission to view work items in their area paths" },
  "work item updates": { scopes: "Work Items: read & write", permission: "permission to edit work items in their area paths" },
};


/** Azure DevOps Server without an extension a call needs (Search): an answer, not a failure, for callers that can do without. */
export class NotInstalledError extends UpstreamError {}

export function vstsHttp(base: BaseHttpOptions, access: VstsAccess = "hooks"): HttpClient {
  const needs = NEEDS[access];
  return new HttpClient({
    ...base,
    service: "Azure DevOps",
    advice: {
      401: { message: "the token was refused", hint: refusedHint(needs.scopes) },
      403: { message: "Azure DevOps denied it", hint: `the token's user needs ${needs.permission}` },
      404: NOT_FOUND,
    },
    readError: (res, req) => {
      const typeKey = vssTypeKey(res);
      return typeKey && /NotInstalled/i.test(typeKey)
        ? new NotInstalledError(`Azure DevOps lacks the extension to ${req.what} (${typeKey})`, "a collection administrator can install it")
        : undefined;
    },
  });
}

/** The typeKey of a VSS error body (protocols.md A.7), which names the error where the message text varies. */
function vssTypeKey(res: HttpResponse): string | undefined {
  try {
    const body: unknown = JSON.parse(res.text);
    const key = (body as { typeKey?: unknown })?.typeKey;
    return typeof key === "string" ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The fields search and link show of a work item. */
const WORK_ITEM_FIELDS = "System.Id,System.Title,System.State,System.AssignedTo";

export interface WorkItem {
  id: number;
  /** Reference names as keys ("System.Title"); identities are objects since api-version 5.0, "Name <email>" before. */
  fields?: Record<string, unknown>;
}

export interface WorkItemSearchResult {
  /** Lower-cased reference names as keys ("system.id"), every value a string. */
  fields?: Record<string, string | undefined>;
}

export interface WorkItemSearchResponse {
  count?: number;
  results?: WorkItemSearchResult[];
  /** 0 ok; 1, 2, 6, 7: the index is being built, so the results say nothing yet. */
  infoCode?: number;
}

/** Azure DevOps REST: service hooks (protocols.md A), work items, projects; Basic auth with a PAT, Bearer with an Entra ID token. */
export class VstsClient {
  private readonly auth: string;
  private readonly searchUrl: string;

  constructor(
    private readonly http: HttpClient,
    readonly baseUrl: string,
    auth: VstsAuth,
  ) {
    this.auth = authorization(auth);
    this.searchUrl = searchBaseUrl(baseUrl);
  }

  private call(method: HttpRequest["method"], path: string, what: string, query: Record<string, string> = {}, extra: Partial<HttpRequest> = {}): HttpRequest {
    return this.at(`${this.baseUrl}/_apis/hooks/${path}`, method, what, query, extra);
  }

  private at(href: string, method: HttpRequest["method"], what: string, query: Record<string, string> = {}, extra: Partial<HttpRequest> = {}): HttpRequest {
    const url = new URL(href);
    for (const [k, v] of Object.entries({ ...query, "api-version": query["api-version"] ?? API_VERSION })) url.searchParams.set(k, v);
    // Without FedAuthRedirect=Suppress a refused token gets a 203 sign-in page instead of a 401.
    return { method, url, what, ...extra, headers: { authorization: this.auth, "x-tfs-fedauthredirect": "Suppress", accept: "application/json", ...extra.headers } };
  }

  /** A GET of a resource under the organization (`<project>/_apis/wit/...`), for readers kept beside this client. */
  get<T>(path: string, what: string): Promise<T> {
    return this.json(this.at(`${this.baseUrl}/${path}`, "GET", what));
  }

  /** An error answer's text with no secret in it (HttpClient.detail). */
  detail = (res: HttpResponse): string | undefined => this.http.detail(res);

  private async json<T>(req: HttpRequest): Promise<T> {
    return this.parse(await this.http.request(req), req);
  }

  private parse<T>(res: HttpResponse, req: HttpRequest): T {
    // A 2xx HTML page is Azure DevOps' sign-in page: the token was not taken at all.
    if (/html/i.test(res.headers["content-type"] ?? "") || res.status === 203) {
      throw new AuthError(`the token was refused (Azure DevOps answered ${req.what} with a sign-in page)`, refusedHint("the scopes the call needs"));
    }
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new UpstreamError(`Azure DevOps answered ${req.what} with something that is not JSON (HTTP ${res.status})`, "check the integration's baseUrl");
    }
  }

  /** Every webhook subscription of the organization for that event type (or all), not only hooksync's. */
  async list(eventType?: string): Promise<Subscription[]> {
    const query: Record<string, string> = { publisherId: PUBLISHER, consumerId: CONSUMER, consumerActionId: CONSUMER_ACTION, ...(eventType ? { eventType } : {}) };
    const res = await this.json<{ value?: Subscription[] }>(this.call("GET", "subscriptions", "list subscriptions", query));
    return res.value ?? [];
  }

  create(body: SubscriptionBody): Promise<Subscription> {
    return this.json(this.call("POST", "subscriptions", "create a subscription", {}, { json: body }));
  }

  /** PUT sends the real secret again: a masked value read back must never be round-tripped. */
  replace(id: string, body: SubscriptionBody): Promise<Subscription> {
    return this.json(this.call("PUT", `subscriptions/${encodeURIComponent(id)}`, "update a subscription", {}, { json: { ...body, id } }));
  }

  /** False when Azure DevOps no longer has it. */
  async delete(id: string): Promise<boolean> {
    const res = await this.http.request(this.call("DELETE", `subscriptions/${encodeURIComponent(id)}`, "delete a subscription", {}, { accept: [404] }));
    if (res.status !== 404) return true;
    // A 404 for the organization itself must not pass for "already deleted".
    if (/SubscriptionNotFound/.test(res.text)) return false;
    throw new UpstreamError(`${NOT_FOUND.message} (HTTP 404 on delete a subscription)`, NOT_FOUND.hint);
  }

  testNotification(subscriptionId: string): Promise<Notification> {
    return this.json(
      this.call("POST", "testnotifications", "send a test notification", { useRealData: "false", "api-version": TEST_API_VERSION }, { json: { subscriptionId }, idempotent: true }),
    );
  }

  /** Undefined when there is no such work item, or the token's user may not read it: Azure DevOps does not say which. */
  async workItem(id: number): Promise<WorkItem | undefined> {
    const req = this.at(`${this.baseUrl}/_apis/wit/workitems/${id}`, "GET", `read work item ${id}`, { fields: WORK_ITEM_FIELDS }, { accept: [404] });
    const res = await this.http.request(req);
    if (res.status !== 404) return this.parse(res, req);
    // TF401232 (WorkItemUnauthorizedAccessException) is about the work item; any other 404 is the organization's.
    if (/^WorkItem/.test(vssTypeKey(res) ?? "")) return undefined;
    throw new UpstreamError(`${NOT_FOUND.message} (HTTP 404 on ${req.what})`, NOT_FOUND.hint);
  }

  /** Work item search, at most top results; undefined where it is not installed (a 404 from a server without it). */
  async searchWorkItems(text: string, top: number): Promise<WorkItemSearchResponse | undefined> {
    const req = this.at(
      `${this.searchUrl}/_apis/search/workitemsearchresults`,
      "POST",
      "search work items",
      { "api-version": SEARCH_API_VERSION },
      { json: { searchText: text, $skip: 0, $top: top, includeFacets: false }, idempotent: true, accept: [404] },
    );
    try {
      const res = await this.http.request(req);
      return res.status === 404 ? undefined : this.parse(res, req);
    } catch (err) {
      if (err instanceof NotInstalledError) return undefined;
      throw err;
    }
  }

  /** The ids a WIQL query selects, at most top. */
  async wiql(query: string, top: number): Promise<number[]> {
    const req = this.at(`${this.baseUrl}/_apis/wit/wiql`, "POST", "query work items (WIQL)", { $top: String(top) }, { json: { query }, idempotent: true });
    const res = await this.json<{ workItems?: { id: number }[] }>(req);
    return (res.workItems ?? []).map((w) => w.id);
  }

  /** The work items with these ids (at most 200), in that order; one deleted meanwhile is left out. */
  async workItems(ids: number[]): Promise<WorkItem[]> {
    if (ids.length === 0) return [];
    const req = this.at(`${this.baseUrl}/_apis/wit/workitems`, "GET", "read work items", { ids: ids.join(","), fields: WORK_ITEM_FIELDS, errorPolicy: "omit" });
    const res = await this.json<{ value?: (WorkItem | null)[] }>(req);
    const byId = new Map((res.value ?? []).filter((w): w is WorkItem => w !== null).map((w) => [w.id, w]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** These fields of one work item (System.TeamProject is the project's name, not its id). */
  async workItemFields(id: string, fields: string[]): Promise<Record<string, unknown>> {
    const req = this.at(`${this.baseUrl}/_apis/wit/workitems/${encodeURIComponent(id)}`, "GET", `read work item ${id}`, { fields: fields.join(",") });
    return (await this.json<WorkItem>(req)).fields ?? {};
  }

  /** A JSON Patch on a work item. Statuses in accept come back as answers (a 400 the caller can explain). */
  async updateWorkItem(id: string, ops: JsonPatchOp[], what: string, accept: number[] = []): Promise<HttpResponse> {
    const req = this.at(`${this.baseUrl}/_apis/wit/workitems/${encodeURIComponent(id)}`, "PATCH", what, {}, {
      json: ops,
      headers: { "content-type": "application/json-patch+json" },
      accept,
    });
    const res = await this.http.request(req);
    if (!accept.includes(res.status)) this.parse(res, req);
    return res;
  }

  /** A project's id from its name: work items name their project, webhooks and status mappings use its id. */
  async projectId(name: string): Promise<string> {
    const req = this.at(`${this.baseUrl}/_apis/projects/${encodeURIComponent(name)}`, "GET", `read project ${name}`);
    const project = await this.json<{ id?: string }>(req);
    if (!project.id) throw new UpstreamError(`Azure DevOps answered ${req.what} without an id`, "check the integration's baseUrl");
    return project.id;
  }
}

export interface JsonPatchOp {
  op: "add" | "replace" | "remove" | "test";
  path: string;
  value?: unknown;
}
