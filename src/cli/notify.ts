import type { Command } from "commander";
import { UsageError } from "../errors.js";
import type { Context, ContextFactory } from "./context.js";
import { readStdinSecret } from "../io/stdin.js";
import { type HttpFlags, withHttp } from "../trackers/sessions.js";
import { addHttpOptions, examples } from "./options.js";

export interface NotifyDiscordOptions extends HttpFlags {
  webhookUrl?: string;
  webhookUrlStdin?: boolean;
  off?: boolean;
  /** --no-check: commander's negation. */
  check?: boolean;
}

/** `notify status --json` and what `notify discord` answers. */
export interface NotifyStatus {
  discord: {
    enabled: boolean;
    /** Redacted: `https://discord.com/api/webhooks/<id>/<redacted>`. */
    webhook: string | null;
    /** Where the URL is read from when notifications are sent; null when it is nowhere (they would fail). */
    urlFrom: "credentials" | "HOOKSYNC_DISCORD_WEBHOOK_URL" | null;
    /** Notifications waiting in the outbox (pending or failed). */
    unsent: number;
  };
}

/** The webhook URL from stdin, the flag, the environment, or a prompt; a usage error naming them all without a TTY. */
async function readWebhookUrl(ctx: Context, opts: NotifyDiscordOptions, envName: string): Promise<string> {
  const { io } = ctx.deps;
  if (opts.webhookUrlStdin) return readStdinSecret(io, { flag: "--webhook-url-stdin", short: "URL", long: "webhook URL", envName });
  if (opts.webhookUrl) {
    ctx.out.info("note: a URL given as a flag shows in the process list and shell history; --webhook-url-stdin or " + `${envName} keep it out`);
    return opts.webhookUrl;
  }
  const env = io.env[envName]?.trim();
  if (env) return env;
  return ctx.deps.prompter.password({ message: "Discord webhook URL", supply: `--webhook-url-stdin or ${envName}` });
}

export async function runNotifyStatus(ctx: Context): Promise<NotifyStatus> {
  const store = await ctx.store();
  const channel = await store.outbox.discordChannel();
  const counts = (await store.outbox.counts()).discord;
  const unsent = counts.pending + counts.failed;
  if (!channel) return { discord: { enabled: false, webhook: null, urlFrom: null, unsent } };
  const { channelWebhook, redactWebhookUrl } = await import("../notify/discord.js");
  const found = await channelWebhook(ctx.deps.io.env, channel.webhookId);
  const webhook = found ? redactWebhookUrl(found.webhook) : `webhook ${channel.webhookId} (no URL stored)`;
  return { discord: { enabled: true, webhook, urlFrom: found?.from ?? null, unsent } };
}

/**
 * Turns Discord notifications on (8.1) or off. The URL's token goes to the credentials (0600);
 * the store keeps only the webhook id, so serve and replay queue notifications without reading
 * any secret.
 */
export async function runNotifyDiscord(ctx: Context, opts: NotifyDiscordOptions): Promise<NotifyStatus & { dropped?: number }> {
  const store = await ctx.store();
  const { CredentialStore } = await import("../config/credentials.js");
  const { DiscordClient, WEBHOOK_ENV, discordHttp, parseWebhookUrl } = await import("../notify/discord.js");
  if (opts.off) {
    if (opts.webhookUrl || opts.webhookUrlStdin) throw new UsageError("--off takes no webhook URL", "run 'hooksync notify discord --off' alone");
    const channel = await store.outbox.discordChannel();
    const dropped = await store.inTransaction((tx) => tx.outbox.clearDiscordChannel());
    if (channel) (await CredentialStore.openExisting(ctx.deps.io.env))?.forgetDiscord(channel.webhookId);
    return { ...(await runNotifyStatus(ctx)), dropped };
  }
  const webhook = parseWebhookUrl(await readWebhookUrl(ctx, opts, WEBHOOK_ENV));
  if (opts.check !== false) {
    const info = await withHttp(ctx, opts, (base) => new DiscordClient(discordHttp(base), webhook, ctx.deps).info());
    ctx.out.verbose(`Discord webhook ${info.id}${info.name ? ` "${info.name}"` : ""}${info.channel_id ? ` posts to channel ${info.channel_id}` : ""}`);
  }
  (await CredentialStore.open(ctx.deps.io.env)).saveDiscord(webhook.id, { url: webhook.url, savedAt: ctx.deps.now().toISOString() });
  const previous = await store.outbox.discordChannel();
  await store.inTransaction((tx) => tx.outbox.setDiscordChannel(webhook.id, ctx.deps.now().toISOString()));
  if (previous && previous.webhookId !== webhook.id) (await CredentialStore.openExisting(ctx.deps.io.env))?.forgetDiscord(previous.webhookId);
  return runNotifyStatus(ctx);
}

function render(ctx: Context, status: NotifyStatus & { dropped?: number }): void {
  if (ctx.json) return ctx.out.json(status);
  const d = status.discord;
  const s = ctx.style;
  if (!d.enabled) ctx.out.text(`Discord notifications: ${s.dim("off")}`);
  else ctx.out.text(`Discord notifications: ${s.green("on")}, ${d.webhook}${d.urlFrom ? ` (URL from ${d.urlFrom})` : ""}`);
  if (d.enabled && d.urlFrom === null) ctx.out.info("the webhook's URL is in neither the credentials nor HOOKSYNC_DISCORD_WEBHOOK_URL: run 'hooksync notify discord' again");
  if (status.dropped) ctx.out.info(`dropped ${status.dropped} unsent notification${status.dropped === 1 ? "" : "s"}`);
  else if (d.unsent) ctx.out.info(`${d.unsent} notification${d.unsent === 1 ? "" : "s"} waiting: 'hooksync outbound send' sends them`);
}

export function defineNotify(program: Command, context: ContextFactory): void {
  const notify = program.command("notify").description("notifications of assignee changes (off by default)")
      .addHelpText("after", examples("hooksync notify discord --webhook-url-stdin < webhook-url.txt", "hooksync notify status"));
  addHttpOptions(
    notify
      .command("discord")
      .description("post each assignee change to a Discord channel, editing the issue's message on later changes")
      .addHelpText("after", examples("hooksync notify discord --webhook-url-stdin < webhook-url.txt", "hooksync notify discord --off"))
      .option("--webhook-url-stdin", "read the webhook URL from stdin (or set HOOKSYNC_DISCORD_WEBHOOK_URL)")
      .option("--webhook-url <url>", "the webhook URL (visible in the process list: prefer --webhook-url-stdin)")
      .option("--no-check", "store the webhook without asking Discord whether it exists")
      .option("--off", "stop notifying, and drop the notifications not sent yet"),
  ).action(async (opts: NotifyDiscordOptions, cmd: Command) => {
    const ctx = context(cmd);
    render(ctx, await runNotifyDiscord(ctx, opts));
  });
  notify
    .command("status")
    .description("which notifications are on, and how many wait to be sent")
    .addHelpText("after", examples("hooksync notify status", "hooksync notify status --json"))
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      render(ctx, await runNotifyStatus(ctx));
    });
}
