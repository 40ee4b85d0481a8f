import { randomUUID } from "node:crypto";
import { type FakeReply, type FakeRequest, type FakeServer, type Route, basicPassword, startFake } from "./server.js";

/** A subscription as the fake keeps it: secrets in clear, masked only in answers. */
export interface StoredSubscription {
  id: string;
  publisherId: string;
  eventType: string;
  resourceVersion: string | null;
  consumerId: string;
  consumerActionId: string;
  publisherInputs: Record<string, string>;
  consumerInputs: Record<string, string>;
  status: string;
  createdDate: string;
  modifiedDate: string;
}

export interface AzureState {
  subscriptions: Map<string, StoredSubscription>;
  notifications: { id: number; subscriptionId: string }[];
  /** The PAT it accepts; change it to make every call a 401. */
  pat: string;
  /** The organization's projects and their work item types' states (GET _apis/projects, {project}/_apis/wit/workitemtypes). */
  projects: { id: string; name: string; types: { name: string; states: { name: string; category: string }[] }[] }[];
  /** Microsoft Entra ID access tokens it accepts as `Authorization: Bearer` (besides the PAT). */
  bearerTokens: Set<string>;
  /** Whether secret consumer inputs come back as "********" (the cloud's behaviour). */
  maskSecrets: boolean;
}

export interface AzureDevOpsFake extends FakeServer<AzureState> {
  /** The organization's base URL, what an integration's baseUrl holds: <origin>/<org>. */
  url: string;
}

const EVENT_TYPES = new Set([
  "workitem.created",
  "workitem.updated",
  "workitem.deleted",
  "workitem.restored",
  "workitem.commented",
  "git.push",
  "git.pullrequest.created",
  "git.pullrequest.updated",
  "git.pullrequest.merged",
  "build.complete",
]);
const API_VERSION = /^\d+\.\d+(-preview(\.\d+)?)?$/;
const SECRET_INPUTS = ["httpHeaders", "basicAuthPassword"];

/** The VSS error envelope (fixtures vsts-error-*.json). */
export const vssError = (status: number, typeKey: string, message: string): FakeReply => ({
  status,
  body: {
    $id: "1",
    innerException: null,
    message,
    typeName: `Microsoft.VisualStudio.Services.ServiceHooks.WebApi.${typeKey}, Microsoft.VisualStudio.Services.ServiceHooks.WebApi`,
    typeKey,
    errorCode: 0,
    eventId: 3000,
  },
});

/** The 429 Azure DevOps sends when a client exceeds its usage (protocols.md A.7). */
export const throttled = (retryAfterS: number): FakeReply => ({
  status: 429,
  headers: { "retry-after": String(retryAfterS), "x-ratelimit-resource": "ServiceHooks" },
  body: { message: "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'ServiceHooks'." },
});

/**
 * A fake Azure DevOps organization's service hooks REST (protocols.md A): Basic auth with the PAT,
 * a mandatory api-version, the subscription body checked as the real one checks it, state kept.
 */
export async function startAzureDevOps(o: { org?: string; pat?: string; maskSecrets?: boolean } = {}): Promise<AzureDevOpsFake> {
  const org = o.org ?? "fabrikam";
  const state: AzureState = { subscriptions: new Map(), notifications: [], pat: o.pat ?? "test-pat-0123456789", bearerTokens: new Set(), projects: [], maskSecrets: o.maskSecrets ?? true };
  const base = `/${org}/_apis/hooks`;
  let origin = "";

  const answer = (s: StoredSubscription) => {
    const consumerInputs = { ...s.consumerInputs };
    if (state.maskSecrets) for (const k of SECRET_INPUTS) if (consumerInputs[k] !== undefined) consumerInputs[k] = "********";
    return { ...s, consumerInputs, url: `${origin}${base}/subscriptions/${s.id}` };
  };

  const routes: Route<AzureState>[] = [
    {
      method: "GET",
      path: `/${org}/_apis/projects`,
      handler: () => ({ status: 200, body: { count: state.projects.length, value: state.projects.map((p) => ({ id: p.id, name: p.name, state: "wellFormed" })) } }),
    },
    {
      method: "GET",
      path: `/${org}/:project/_apis/wit/workitemtypes`,
      handler: (_req, p) => {
        const project = state.projects.find((x) => x.id === p.project || x.name === p.project);
        if (!project) return vssError(404, "ProjectDoesNotExistWithNameException", `TF200016: The following project does not exist: ${p.project}.`);
        const value = project.types.map((t) => ({ name: t.name, referenceName: `Microsoft.VSTS.WorkItemTypes.${t.name}`, states: t.states.map((s) => ({ ...s, color: "b2b2b2" })) }));
        return { status: 200, body: { count: value.length, value } };
      },
    },
    {
      method: "GET",
      path: `${base}/subscriptions`,
      handler: (req) => {
        const q = req.url.searchParams;
        const value = [...state.subscriptions.values()]
          .filter((s) => ["publisherId", "eventType", "consumerId", "consumerActionId"].every((k) => !q.get(k) || q.get(k) === s[k as keyof StoredSubscription]))
          .map(answer);
        return { status: 200, body: { count: value.length, value } };
      },
    },
    {
      method: "POST",
      path: `${base}/subscriptions`,
      handler: (req) => {
        const invalid = checkBody(req);
        if (typeof invalid !== "object" || "status" in invalid) return invalid as FakeReply;
        const now = new Date().toISOString();
        const s: StoredSubscription = { ...invalid, id: randomUUID(), status: "enabled", createdDate: now, modifiedDate: now };
        s.publisherInputs = { ...s.publisherInputs, tfsSubscriptionId: randomUUID() };
        state.subscriptions.set(s.id, s);
        return { status: 200, body: answer(s) };
      },
    },
    {
      method: "GET",
      path: `${base}/subscriptions/:id`,
      handler: (_req, p) => {
        const s = state.subscriptions.get(p.id!);
        return s ? { status: 200, body: answer(s) } : notFound(p.id!);
      },
    },
    {
      method: "PUT",
      path: `${base}/subscriptions/:id`,
      handler: (req, p) => {
        const old = state.subscriptions.get(p.id!);
        if (!old) return notFound(p.id!);
        const checked = checkBody(req);
        if (typeof checked !== "object" || "status" in checked) return checked as FakeReply;
        const s: StoredSubscription = { ...old, ...checked, id: old.id, modifiedDate: new Date().toISOString() };
        state.subscriptions.set(s.id, s);
        return { status: 200, body: answer(s) };
      },
    },
    {
      method: "DELETE",
      path: `${base}/subscriptions/:id`,
      handler: (_req, p) => (state.subscriptions.delete(p.id!) ? { status: 204 } : notFound(p.id!)),
    },
    {
      method: "POST",
      path: `${base}/testnotifications`,
      handler: (req) => {
        if (!/-preview/.test(req.url.searchParams.get("api-version") ?? "")) {
          return vssError(400, "VssInvalidPreviewVersionException", "VS403505: The requested REST API version of 7.1 is only available as preview: use 7.1-preview.1.");
        }
        const { subscriptionId } = req.json<{ subscriptionId?: string }>();
        if (!subscriptionId || !state.subscriptions.has(subscriptionId)) return notFound(String(subscriptionId));
        const n = { id: state.notifications.length + 1, subscriptionId };
        state.notifications.push(n);
        return { status: 200, body: { ...n, status: "queued", result: "pending", createdDate: new Date().toISOString() } };
      },
    },
  ];

  const server = await startFake<AzureState>({
    state,
    routes,
    caseInsensitive: true,
    guard: (req) => {
      // Without credentials the cloud answers a 203 sign-in page, not a 401 (A.7's gotcha).
      if (!req.headers.authorization) return { status: 203, headers: { "content-type": "text/html; charset=utf-8" }, body: "<html><title>Azure DevOps Services | Sign In</title></html>" };
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization)?.[1];
      if (bearer !== undefined ? !state.bearerTokens.has(bearer) : basicPassword(req.headers.authorization) !== state.pat) return { status: 401, headers: { "www-authenticate": 'Basic realm="https://dev.azure.com/"' }, body: "" };
      if (!req.url.pathname.toLowerCase().startsWith(`/${org.toLowerCase()}/`)) {
        return vssError(404, "OrganizationNotFoundException", `VS800075: The project collection ${req.url.pathname.split("/")[1]} does not exist.`);
      }
      const version = req.url.searchParams.get("api-version");
      if (!version) return vssError(400, "VssVersionNotSpecifiedException", "No api-version was supplied for the request. An api-version must be supplied.");
      if (!API_VERSION.test(version)) return vssError(400, "VssInvalidApiVersionException", `The api-version '${version}' is not valid.`);
      return undefined;
    },
    notFound: (req) => vssError(404, "ResourceNotFoundException", `VS800000: no resource at ${req.url.pathname}`),
  });
  origin = server.origin;
  return Object.assign(server, { url: `${server.origin}/${org}` });
}

const notFound = (id: string) => vssError(404, "SubscriptionNotFoundException", `VS1000000: Subscription ${id} could not be found.`);

/** The checks A.3 lists: required ids, a known event, a consumer URL, every input a string. */
function checkBody(req: FakeRequest): Omit<StoredSubscription, "id" | "status" | "createdDate" | "modifiedDate"> | FakeReply {
  let b: Record<string, unknown>;
  try {
    b = req.json<Record<string, unknown>>();
  } catch {
    return vssError(400, "VssRequestContentException", "The request body is not valid JSON.");
  }
  const bad = (message: string) => vssError(400, "SubscriptionInputException", `VS1000000: ${message}`);
  if (b.publisherId !== "tfs") return bad(`Publisher '${String(b.publisherId)}' does not exist.`);
  if (typeof b.eventType !== "string" || !EVENT_TYPES.has(b.eventType)) return bad(`Event type '${String(b.eventType)}' is not supported.`);
  if (b.consumerId !== "webHooks" || b.consumerActionId !== "httpRequest") return bad("Consumer or action does not exist.");
  if (b.resourceVersion !== undefined && b.resourceVersion !== null && !/^\d+\.\d+(-preview\.\d+)?$/.test(String(b.resourceVersion))) {
    return bad(`Resource version '${String(b.resourceVersion)}' is not supported.`);
  }
  for (const key of ["publisherInputs", "consumerInputs"]) {
    const inputs = b[key] ?? {};
    if (typeof inputs !== "object" || inputs === null || Object.values(inputs).some((v) => typeof v !== "string")) return bad(`${key} values must be strings.`);
  }
  const consumerInputs = (b.consumerInputs ?? {}) as Record<string, string>;
  if (!consumerInputs.url) return bad("Input 'url' is required.");
  if (!/^https?:\/\//.test(consumerInputs.url)) return bad("Input 'url' must be an absolute http(s) URL.");
  if (consumerInputs.httpHeaders !== undefined && !consumerInputs.httpHeaders.split("\n").every((l) => /^[^:\s]+:.*$/.test(l))) {
    return bad("Input 'httpHeaders' must be lines of Name:Value.");
  }
  return {
    publisherId: "tfs",
    eventType: b.eventType,
    resourceVersion: (b.resourceVersion as string | undefined) ?? null,
    consumerId: "webHooks",
    consumerActionId: "httpRequest",
    publisherInputs: (b.publisherInputs ?? {}) as Record<string, string>,
    consumerInputs,
  };
}
