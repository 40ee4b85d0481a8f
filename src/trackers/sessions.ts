import { UsageError } from "../errors.js";
import type { Deps } from "../deps.js";
import type { BaseHttpOptions } from "../http/client.js";
import { requireIntegration } from "../pipeline/resolve-integration.js";
import type { JiraClient, JiraWebhook } from "../providers/jira/client.js";
import type { ProviderName } from "../providers/types.js";
import type { Subscription, VstsAccess, VstsClient } from "../providers/vsts/client.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import type { Store } from "../store/store.js";
import { withoutTrailingSlash } from "../url.js";
import { type VstsTokenFlags, describeVsts, jiraSignIn, readVstsAuth, trackerBaseUrl } from "./credentials.js";

/**
 * Sessions with the trackers for the commands that talk to them: the HTTP options, the
 * integration chosen, its credentials and client, and which of the tracker's subscriptions are
 * hooksync's. The command's context is all they need of the CLI.
 */
export interface SessionHost {
  deps: Deps;
  out: { info(line: string): void; verbose(line: string): void };
  store(): Promise<Store>;
}

/** Flags every command that talks to a tracker shares. */
export interface HttpFlags {
  caFile?: string;
  insecure?: boolean;
  timeout?: string;
}

/**
 * Runs fn with the shared HTTP options, and closes the dispatcher afterwards: keep-alive sockets
 * would otherwise hold the process open after the command.
 */
export async function withHttp<T>(ctx: SessionHost, flags: HttpFlags, fn: (base: BaseHttpOptions) => Promise<T>): Promise<T> {
  const seconds = Number(flags.timeout ?? "30");
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got ${flags.timeout}`);
  const { baseHttpOptions } = await import("../http/client.js");
  const dispatcher = await ctx.deps.http({ ...(flags.caFile ? { caFile: flags.caFile } : {}), ...(flags.insecure ? { insecure: true } : {}) });
  if (flags.insecure) ctx.out.info("warning: --insecure: TLS certificates are not checked");
  try {
    return await fn(baseHttpOptions(ctx.deps, dispatcher, (line) => ctx.out.verbose(line), seconds * 1000));
  } finally {
    await dispatcher.close();
  }
}

/** The integration named by --integration, or the only one of that provider; of any provider when none is given. */
export async function integrationFor(
  ctx: SessionHost,
  provider: ProviderName | undefined,
  named?: string | IntegrationRow,
): Promise<{ store: Store; integration: IntegrationRow }> {
  const store = await ctx.store();
  // One the caller already chose (link checks the issue it links) is not looked up again.
  return { store, integration: typeof named === "object" ? named : await requireIntegration(store.integrations, provider, named) };
}

/** --url: where the trackers reach hooksync's receiver, without a trailing slash. */
export function publicUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--url ${raw} is not a URL`, "give the receiver's public base URL, e.g. https://hooksync.example.com");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new UsageError(`--url must be http(s), got ${u.protocol}`);
  if (u.search || u.hash) throw new UsageError("--url takes a base URL without query or fragment", "hooksync appends /hooks/<provider>");
  return withoutTrailingSlash(u.href);
}

/**
 * hooksync's own among everything the tracker lists: recorded by id, or pointing at a URL hooksync
 * recorded or was told (--url), or matched by the provider's own mark (the Jira webhook's name).
 */
function ours<T>(
  remote: T[],
  recorded: { remoteId: string; url: string }[],
  of: { id: (t: T) => string; url: (t: T) => string | undefined; also?: (t: T) => boolean },
): T[] {
  const ids = new Set(recorded.map((r) => r.remoteId));
  const urls = new Set(recorded.map((r) => r.url));
  return remote.filter((t) => {
    const url = of.url(t);
    return ids.has(of.id(t)) || (url !== undefined && urls.has(url)) || (of.also?.(t) ?? false);
  });
}

export interface TrackerSession<C, S> {
  client: C;
  store: Store;
  integration: IntegrationRow;
  /** Which credential the calls use and where it came from ("a personal access token from JIRA_API_TOKEN"). */
  credential: string;
  /** hooksync's subscriptions among all the tracker lists, and the recorded ones it no longer has. */
  mine(): Promise<{ found: S[]; missing: string[] }>;
}

function session<C, S>(
  client: C,
  store: Store,
  integration: IntegrationRow,
  credential: string,
  list: () => Promise<S[]>,
  of: { id: (t: S) => string; url: (t: S) => string | undefined; also?: (t: S) => boolean },
): TrackerSession<C, S> {
  return {
    client,
    store,
    integration,
    credential,
    mine: async () => {
      const recorded = await store.subscriptions.list(integration.id);
      const found = ours(await list(), recorded, of);
      const ids = new Set(found.map(of.id));
      return { found, missing: recorded.filter((r) => !ids.has(r.remoteId)).map((r) => r.remoteId) };
    },
  };
}

/** Which integration a session is with: --integration, or one the caller already resolved. */
export interface SessionTarget {
  integration?: string;
  resolved?: IntegrationRow;
}

export interface VstsFlags extends HttpFlags, SessionTarget, VstsTokenFlags {
  /** Also counts subscriptions pointing at <url>/hooks/vsts as hooksync's. */
  url?: string;
}

/**
 * Azure DevOps for the vsts integration: the credential read, the client made, the dispatcher closed after.
 * access names what the calls need of the token, for the hints when it is refused.
 */
export async function withVsts<T>(
  ctx: SessionHost,
  opts: VstsFlags,
  fn: (s: TrackerSession<VstsClient, Subscription>) => Promise<T>,
  access?: VstsAccess,
): Promise<T> {
  const { store, integration } = await integrationFor(ctx, "vsts", opts.resolved ?? opts.integration);
  const baseUrl = trackerBaseUrl(integration);
  const wanted = opts.url ? `${publicUrl(opts.url)}/hooks/vsts` : undefined;
  const auth = await readVstsAuth(ctx.deps, opts);
  const { VstsClient, vstsHttp } = await import("../providers/vsts/client.js");
  return withHttp(ctx, opts, (base) => {
    const client = new VstsClient(vstsHttp(base, access), baseUrl, auth);
    const url = (s: Subscription) => s.consumerInputs?.url;
    return fn(session(client, store, integration, describeVsts(auth), () => client.list(), { id: (s) => s.id, url, also: (s) => wanted !== undefined && url(s) === wanted }));
  });
}

export const jiraWebhookName = (externalId: string): string => `hooksync ${externalId}`;

/** Jira for the jira integration, with JIRA_API_TOKEN or its stored credentials (OAuth or a personal access token). */
export async function withJira<T>(
  ctx: SessionHost,
  opts: HttpFlags & SessionTarget,
  fn: (s: TrackerSession<JiraClient, JiraWebhook>) => Promise<T>,
): Promise<T> {
  const { store, integration } = await integrationFor(ctx, "jira", opts.resolved ?? opts.integration);
  const { auth, source } = await jiraSignIn(ctx.deps.io.env, integration);
  const { clientFromCredentials } = await import("../providers/jira/client.js");
  const name = jiraWebhookName(integration.externalId);
  return withHttp(ctx, opts, (base) => {
    const client = clientFromCredentials(auth, base, ctx.deps);
    return fn(session(client, store, integration, source, () => client.listWebhooks(), { id: (w) => w.id, url: (w) => w.url, also: (w) => w.name === name }));
  });
}
