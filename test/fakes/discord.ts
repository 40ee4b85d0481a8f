import { randomBytes } from "node:crypto";
import { type FakeReply, type FakeRequest, type FakeServer, startFake } from "./server.js";

export interface FakeMessage {
  id: string;
  content: string;
  /** User ids that were pinged: only those the request's allowed_mentions let through. */
  mentions: string[];
  mentionEveryone: boolean;
  editedTimestamp: string | null;
}

export interface FakeWebhook {
  id: string;
  token: string;
  name: string;
  channelId: string;
  messages: Map<string, FakeMessage>;
}

export interface DiscordState {
  webhooks: Map<string, FakeWebhook>;
  nextId: bigint;
  /** The bucket reported in X-RateLimit-* headers on each success; none when null. */
  bucket: { limit: number; remaining: number; resetAfter: number } | null;
}

export interface DiscordFake extends FakeServer<DiscordState> {
  /** A new webhook; its URL is what `notify discord` takes. */
  webhook(name?: string): FakeWebhook & { url: string };
}

const discordError = (status: number, code: number, message: string, extra: Record<string, unknown> = {}): FakeReply => ({ status, body: { message, code, ...extra } });

/** Discord's 429 (protocols.md E.4): retry_after in the body as float seconds, the headers rounded up. */
export const rateLimited = (retryAfterS: number): FakeReply => ({
  status: 429,
  headers: {
    "retry-after": String(Math.ceil(retryAfterS)),
    "x-ratelimit-limit": "5",
    "x-ratelimit-remaining": "0",
    "x-ratelimit-reset-after": String(retryAfterS),
    "x-ratelimit-bucket": "2d0a7f0c9b7c4a1e",
    "x-ratelimit-scope": "user",
  },
  body: { message: "You are being rate limited.", retry_after: retryAfterS, global: false },
});

const MENTION_KINDS = new Set(["users", "roles", "everyone"]);

/**
 * A fake Discord webhook API (protocols.md E): execute (204, or the message with ?wait=true), edit,
 * and read the webhook; the token checked, JSON required, empty or oversized messages refused,
 * allowed_mentions validated and applied, messages kept per webhook.
 */
export async function startDiscord(): Promise<DiscordFake> {
  const state: DiscordState = { webhooks: new Map(), nextId: 1214563289135939654n, bucket: null };

  const withBucket = (reply: FakeReply): FakeReply => {
    const b = state.bucket;
    if (!b) return reply;
    b.remaining = Math.max(0, b.remaining - 1);
    const headers = { "x-ratelimit-limit": String(b.limit), "x-ratelimit-remaining": String(b.remaining), "x-ratelimit-reset-after": String(b.resetAfter), "x-ratelimit-bucket": "2d0a7f0c9b7c4a1e" };
    return { ...reply, headers: { ...reply.headers, ...headers } };
  };

  /** The webhook the path names, or Discord's answer for a wrong id or token. */
  const find = (p: Record<string, string>): FakeWebhook | FakeReply => {
    const w = state.webhooks.get(p.id!);
    if (!w) return discordError(404, 10015, "Unknown Webhook");
    if (w.token !== p.token) return discordError(401, 50027, "Invalid Webhook Token");
    return w;
  };

  /** The message body checks, and the pings it would make. */
  const read = (req: FakeRequest): { content: string; mentions: string[]; everyone: boolean } | FakeReply => {
    if (!(req.headers["content-type"] ?? "").startsWith("application/json")) return discordError(400, 50035, "Invalid Form Body");
    let b: { content?: unknown; embeds?: unknown; allowed_mentions?: { parse?: unknown; users?: unknown } };
    try {
      b = req.json();
    } catch {
      return discordError(400, 50109, "The request body contains invalid JSON.");
    }
    const content = typeof b.content === "string" ? b.content : "";
    if (!content && !Array.isArray(b.embeds)) return discordError(400, 50006, "Cannot send an empty message");
    if (content.length > 2000) return discordError(400, 50035, "Invalid Form Body", { errors: { content: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 2000 or fewer in length." }] } } });
    // Webhooks ping users unless told otherwise.
    const allowed = b.allowed_mentions ?? { parse: ["users"] };
    const parse = allowed.parse ?? [];
    if (!Array.isArray(parse) || parse.some((k) => !MENTION_KINDS.has(String(k)))) return discordError(400, 50035, "Invalid Form Body");
    if (parse.includes("users") && allowed.users !== undefined) return discordError(400, 50035, "Invalid Form Body");
    const users = Array.isArray(allowed.users) ? allowed.users.map(String) : [];
    const mentioned = [...content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1]!);
    return {
      content,
      mentions: mentioned.filter((id) => parse.includes("users") || users.includes(id)),
      everyone: /@(everyone|here)/.test(content) && parse.includes("everyone"),
    };
  };

  const message = (w: FakeWebhook, m: FakeMessage) => ({
    type: 0,
    id: m.id,
    channel_id: w.channelId,
    webhook_id: w.id,
    author: { id: w.id, username: w.name, avatar: null, discriminator: "0000", bot: true },
    content: m.content,
    mentions: m.mentions.map((id) => ({ id })),
    mention_roles: [],
    mention_everyone: m.mentionEveryone,
    attachments: [],
    embeds: [],
    components: [],
    timestamp: "2026-01-02T03:04:05.000000+00:00",
    edited_timestamp: m.editedTimestamp,
    flags: 0,
    pinned: false,
    tts: false,
  });

  const server = await startFake<DiscordState>({
    state,
    routes: [
      {
        method: "GET",
        path: "/api/webhooks/:id/:token",
        handler: (_req, p) => {
          const w = find(p);
          return "status" in w ? w : withBucket({ status: 200, body: { type: 1, id: w.id, name: w.name, channel_id: w.channelId, guild_id: "1106258373431545000", token: w.token } });
        },
      },
      {
        method: "POST",
        path: "/api/webhooks/:id/:token",
        handler: (req, p) => {
          const w = find(p);
          if ("status" in w) return w;
          const m = read(req);
          if ("status" in m) return m;
          const saved: FakeMessage = { id: String(state.nextId++), content: m.content, mentions: m.mentions, mentionEveryone: m.everyone, editedTimestamp: null };
          w.messages.set(saved.id, saved);
          return withBucket(req.url.searchParams.get("wait") === "true" ? { status: 200, body: message(w, saved) } : { status: 204 });
        },
      },
      {
        method: "PATCH",
        path: "/api/webhooks/:id/:token/messages/:message",
        handler: (req, p) => {
          const w = find(p);
          if ("status" in w) return w;
          const saved = w.messages.get(p.message!);
          if (!saved) return discordError(404, 10008, "Unknown Message");
          const m = read(req);
          if ("status" in m) return m;
          Object.assign(saved, { content: m.content, mentions: m.mentions, mentionEveryone: m.everyone, editedTimestamp: "2026-01-02T03:05:00.000000+00:00" });
          return withBucket({ status: 200, body: message(w, saved) });
        },
      },
    ],
    notFound: () => discordError(404, 0, "404: Not Found"),
  });

  return Object.assign(server, {
    webhook: (name = "hooksync") => {
      const w: FakeWebhook = { id: String(state.nextId++), token: randomBytes(34).toString("base64url"), name, channelId: "1106258373431545856", messages: new Map() };
      state.webhooks.set(w.id, w);
      return { ...w, url: `${server.origin}/api/webhooks/${w.id}/${w.token}` };
    },
  });
}
