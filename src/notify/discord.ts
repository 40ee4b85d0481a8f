import { UpstreamError, UsageError } from "../errors.js";
import { type BaseHttpOptions, HttpClient, type HttpRequest, type HttpResponse, parseJson } from "../http/client.js";

/** A Discord webhook (protocols.md E): its URL carries the token, so the URL itself is a secret. */
export interface DiscordWebhook {
  id: string;
  /** `https://discord.com/api/webhooks/<id>/<token>`: never printed, never logged. */
  url: string;
}

const SHAPE = "https://discord.com/api/webhooks/<id>/<token>";
const WHERE = "copy it from the channel's settings, Integrations > Webhooks";
const DISCORD_HOST = /^(?:canary\.|ptb\.)?discord(?:app)?\.com$/;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const WEBHOOK_PATH = /^\/api(?:\/v\d+)?\/webhooks\/(\d{1,25})\/([\w-]{8,})\/?$/;

/** Checks the URL's shape. Errors never repeat the URL: it carries the token. Plain http only to this machine (a test server). */
export function parseWebhookUrl(raw: string): DiscordWebhook {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new UsageError(`the Discord webhook URL is not a URL (expected ${SHAPE})`, WHERE);
  }
  const host = u.protocol === "https:" ? DISCORD_HOST.test(u.hostname) : u.protocol === "http:" && LOOPBACK.has(u.hostname);
  const m = WEBHOOK_PATH.exec(u.pathname);
  if (!host || !m || u.search || u.hash || u.username || u.password) {
    throw new UsageError(`that is not a Discord webhook URL (expected ${SHAPE})`, WHERE);
  }
  return { id: m[1]!, url: `${u.origin}${u.pathname.replace(/\/$/, "")}` };
}

/** The URL fit to print: `https://discord.com/api/webhooks/123/<redacted>`. */
export const redactWebhookUrl = (w: DiscordWebhook): string => w.url.replace(/[^/]+$/, "<redacted>");

export function discordHttp(base: BaseHttpOptions): HttpClient {
  const again = "run 'hooksync notify discord' with a current webhook URL";
  return new HttpClient({
    ...base,
    service: "Discord",
    address: "the webhook URL",
    advice: {
      401: { message: "Discord refused the webhook token", hint: again },
      403: { message: "Discord refused the webhook", hint: again },
      404: { message: "Discord does not know this webhook (deleted, or a wrong URL)", hint: again },
    },
  });
}

export interface WebhookInfo {
  id: string;
  name?: string | null;
  channel_id?: string;
}

/** Discord's code for editing a message that was deleted (protocols.md E.3). */
const UNKNOWN_MESSAGE = 10008;

/**
 * Execute (with `?wait=true`, the only way to learn the message id) and edit. Pings are off for
 * every message: an issue title must not be able to mention @everyone.
 */
export class DiscordClient {
  /** When the rate-limit bucket is spent, the time it refills (ms); waiting beats a 429, which Discord counts against the IP. */
  private readyAt = 0;

  constructor(
    private readonly http: HttpClient,
    private readonly webhook: DiscordWebhook,
    private readonly clock: { now: () => Date; sleep: (ms: number) => Promise<void> },
  ) {}

  /** The webhook as Discord has it: proof the URL works. */
  async info(): Promise<WebhookInfo> {
    const res = await this.call({ method: "GET", url: new URL(this.webhook.url), what: "check the webhook" });
    return parseJson<WebhookInfo>(res, "Discord", "check the webhook", "the webhook URL");
  }

  /** Posts a message; its id. Only a 429 is tried again: Discord did not act on it. */
  async post(content: string): Promise<string> {
    const url = new URL(this.webhook.url);
    url.searchParams.set("wait", "true");
    const res = await this.call({ method: "POST", url, what: "post a message", json: body(content) });
    const message = parseJson<{ id?: unknown }>(res, "Discord", "post a message", "the webhook URL");
    if (typeof message.id !== "string") throw new UpstreamError("Discord answered post a message without a message id", "is the webhook URL Discord's own?");
    return message.id;
  }

  /** Edits a message this webhook posted; false when it was deleted meanwhile (post anew). */
  async edit(messageId: string, content: string): Promise<boolean> {
    const what = "edit the message";
    const res = await this.call({ method: "PATCH", url: new URL(`${this.webhook.url}/messages/${messageId}`), what, json: body(content), accept: [404] });
    if (res.status !== 404) return true;
    if (discordCode(res) === UNKNOWN_MESSAGE) return false;
    const detail = this.http.detail(res);
    throw new UpstreamError(`Discord does not know this webhook (HTTP 404 on ${what})${detail ? `: ${detail}` : ""}`, "run 'hooksync notify discord' with a current webhook URL");
  }

  private async call(req: HttpRequest): Promise<HttpResponse> {
    const wait = this.readyAt - this.clock.now().getTime();
    if (wait > 0) await this.clock.sleep(wait);
    this.readyAt = 0;
    const res = await this.http.request(req);
    if (res.headers["x-ratelimit-remaining"] === "0") {
      const after = Number(res.headers["x-ratelimit-reset-after"]);
      if (Number.isFinite(after) && after > 0) this.readyAt = this.clock.now().getTime() + Math.ceil(after * 1000);
    }
    return res;
  }
}

const body = (content: string) => ({ content, allowed_mentions: { parse: [] } });

function discordCode(res: HttpResponse): number | undefined {
  try {
    const code = (JSON.parse(res.text) as { code?: unknown }).code;
    return typeof code === "number" ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Markdown characters in an issue title or email shown as themselves, and a title on one line. */
const plain = (s: string) => s.replace(/\s+/g, " ").trim().replace(/[\\*_~`|>[\]<]/g, "\\$&");

const MAX_TITLE = 200;

/** `**BACKEND-1** TypeError in checkout — assigned to jane@example.com (from Azure DevOps)` */
export function notificationText(n: { issue: string; title: string; assignee: string | null; source: string }): string {
  const title = n.title.length > MAX_TITLE ? `${n.title.slice(0, MAX_TITLE - 1)}…` : n.title;
  const what = n.assignee === null ? "unassigned" : `assigned to ${plain(n.assignee)}`;
  return `**${plain(n.issue)}** ${plain(title)} — ${what} (from ${n.source})`;
}

/** Where a channel's webhook URL is read from, in this order. */
export const WEBHOOK_ENV = "HOOKSYNC_DISCORD_WEBHOOK_URL";

/**
 * The webhook the store's channel names: its URL from the credentials, else from
 * HOOKSYNC_DISCORD_WEBHOOK_URL when that is the same webhook (CI keeps secrets in the environment).
 */
export async function channelWebhook(
  env: Record<string, string | undefined>,
  webhookId: string,
): Promise<{ webhook: DiscordWebhook; from: "credentials" | typeof WEBHOOK_ENV } | undefined> {
  const { CredentialStore } = await import("../config/credentials.js");
  const stored = (await CredentialStore.openExisting(env))?.discord(webhookId);
  if (stored) return { webhook: parseWebhookUrl(stored.url), from: "credentials" };
  const raw = env[WEBHOOK_ENV]?.trim();
  if (!raw) return undefined;
  const fromEnv = parseWebhookUrl(raw);
  return fromEnv.id === webhookId ? { webhook: fromEnv, from: WEBHOOK_ENV } : undefined;
}
