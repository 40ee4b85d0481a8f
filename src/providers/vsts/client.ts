import { AuthError, UpstreamError } from "../../errors.js";
import { type BaseHttpOptions, HttpClient, type HttpRequest } from "../../http/client.js";

export const PUBLISHER = "tfs";
export const CONSUMER = "webHooks";
export const CONSUMER_ACTION = "httpRequest";
const API_VERSION = "7.1";
/** testnotifications is only published as a preview (protocols.md A.1). */
const TEST_API_VERSION = "7.1-preview.1";
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

export function vstsHttp(base: BaseHttpOptions): HttpClient {
  return new HttpClient({
    ...base,
    service: "Azure DevOps",
    advice: {
      401: {
        message: "the token was refused",
        hint: "check AZURE_DEVOPS_EXT_PAT's scopes (Service Hooks: read & write), that it has not expired, and that it belongs to this organization",
      },
      403: { message: "Azure DevOps denied it", hint: "the token's user needs the \"Edit subscriptions\" service-hooks permission (project administrators have it)" },
      404: NOT_FOUND,
    },
  });
}

/** Azure DevOps service hooks REST (protocols.md A), Basic auth with the PAT. */
export class VstsClient {
  private readonly auth: string;

  constructor(
    private readonly http: HttpClient,
    readonly baseUrl: string,
    pat: string,
  ) {
    this.auth = `Basic ${Buffer.from(`:${pat}`).toString("base64")}`;
  }

  private call(method: HttpRequest["method"], path: string, what: string, query: Record<string, string> = {}, extra: Partial<HttpRequest> = {}): HttpRequest {
    const url = new URL(`${this.baseUrl}/_apis/hooks/${path}`);
    for (const [k, v] of Object.entries({ ...query, "api-version": query["api-version"] ?? API_VERSION })) url.searchParams.set(k, v);
    // Without FedAuthRedirect=Suppress a refused token gets a 203 sign-in page instead of a 401.
    return { method, url, what, headers: { authorization: this.auth, "x-tfs-fedauthredirect": "Suppress", accept: "application/json" }, ...extra };
  }

  private async json<T>(req: HttpRequest): Promise<T> {
    const res = await this.http.request(req);
    // A 2xx HTML page is Azure DevOps' sign-in page: the token was not taken at all.
    if (/html/i.test(res.headers["content-type"] ?? "") || res.status === 203) {
      throw new AuthError(`the token was refused (Azure DevOps answered ${req.what} with a sign-in page)`, "set AZURE_DEVOPS_EXT_PAT to a valid personal access token");
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
}
