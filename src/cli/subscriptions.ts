import type { Command } from "commander";
import type { JiraWebhook } from "../providers/jira/client.js";
import type { Notification, Subscription } from "../providers/vsts/client.js";
import { table } from "../io/style.js";
import type { Context, ContextFactory } from "./context.js";
import { type HttpFlags, type VstsFlags, withJira, withVsts } from "../trackers/sessions.js";
import { redactJwt } from "./trackers.js";
import { addHttpOptions, addVstsTokenOptions, onlyIntegrationOption, examples } from "./options.js";

export interface ListVstsOptions extends VstsFlags {
  test?: string;
}

/** hooksync's subscriptions as Azure DevOps has them now, and the recorded ones it no longer has. */
export async function listVsts(ctx: Context, opts: ListVstsOptions): Promise<{ found: Subscription[]; missing: string[] }> {
  const { masked } = await import("../providers/vsts/client.js");
  return withVsts(ctx, opts, async ({ mine }) => {
    const { found, missing } = await mine();
    return { found: found.map(masked), missing };
  });
}

export async function testVsts(ctx: Context, opts: ListVstsOptions & { test: string }): Promise<Notification> {
  return withVsts(ctx, opts, ({ client }) => client.testNotification(opts.test));
}

export async function listJira(ctx: Context, opts: HttpFlags & { integration?: string }): Promise<{ found: JiraWebhook[]; missing: string[] }> {
  return withJira(ctx, opts, async ({ mine }) => {
    const { found, missing } = await mine();
    return { found: found.map((w) => ({ ...w, url: redactJwt(w.url) })), missing };
  });
}

function noteMissing(ctx: Context, missing: string[], tracker: string): void {
  for (const id of missing) ctx.out.info(`note: ${id} was recorded by hooksync but ${tracker} no longer has it`);
}

export function defineSubscriptions(program: Command, context: ContextFactory): void {
  const subscriptions = program.command("subscriptions").description("list hooksync's subscriptions on a tracker, with their state")
      .addHelpText("after", examples("hooksync subscriptions vsts", "hooksync subscriptions jira --json"));
  addHttpOptions(
    addVstsTokenOptions(
      subscriptions
        .command("vsts")
        .description("Azure DevOps subscriptions pointing at hooksync (Azure DevOps silently disables failing ones: see the state)")
        .addHelpText("after", examples("hooksync subscriptions vsts", "hooksync subscriptions vsts --test <subscription id>   # ask Azure DevOps to send a test delivery"))
        .addOption(onlyIntegrationOption("vsts"))
        .option("--url <public base url>", "also count subscriptions pointing at <url>/hooks/vsts as hooksync's")
        .option("--test <subscription id>", "ask Azure DevOps to send a test notification for this subscription"),
    ),
  ).action(async (opts: ListVstsOptions, cmd: Command) => {
    const ctx = context(cmd);
    if (opts.test) {
      const n = await testVsts(ctx, { ...opts, test: opts.test });
      if (ctx.json) return ctx.out.json(n);
      return ctx.out.text(`test notification ${n.id} for ${opts.test}: ${n.status ?? "queued"}${n.result ? `, ${n.result}` : ""}`);
    }
    const { found, missing } = await listVsts(ctx, opts);
    noteMissing(ctx, missing, "Azure DevOps");
    if (ctx.json) return ctx.out.json(found);
    if (found.length === 0) return ctx.out.info("no hooksync subscriptions on Azure DevOps ('hooksync subscribe vsts' creates them)");
    ctx.out.text(
      table(
        found.map((s) => [s.id, s.eventType, stateOf(ctx, s.status), s.publisherInputs?.projectId || "all projects", s.consumerInputs?.url ?? ""]),
        ["ID", "EVENT", "STATE", "PROJECT", "URL"],
        ctx.style,
      ),
    );
  });
  addHttpOptions(
    subscriptions
      .command("jira")
      .description("Jira webhooks pointing at hooksync")
      .addHelpText("after", examples("hooksync subscriptions jira", "hooksync subscriptions jira --json"))
      .addOption(onlyIntegrationOption("jira")),
  ).action(async (opts: HttpFlags & { integration?: string }, cmd: Command) => {
    const ctx = context(cmd);
    const { found, missing } = await listJira(ctx, opts);
    noteMissing(ctx, missing, "Jira");
    if (ctx.json) return ctx.out.json(found);
    if (found.length === 0) return ctx.out.info("no hooksync webhooks on Jira ('hooksync subscribe jira' registers one)");
    ctx.out.text(
      table(
        found.map((w) => [w.id, w.name, w.enabled === false ? ctx.style.red("disabled") : "enabled", w.events.join(","), w.url]),
        ["ID", "NAME", "STATE", "EVENTS", "URL"],
        ctx.style,
      ),
    );
  });
}

/** Older servers leave status out when enabled. */
const stateOf = (ctx: Context, status: string | undefined) =>
  !status || status === "enabled" ? "enabled" : status === "onProbation" ? ctx.style.yellow(status) : ctx.style.red(status);
