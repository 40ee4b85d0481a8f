import { type Command, Option } from "commander";
import { UsageError } from "../errors.js";
import type { JiraSimulation } from "../providers/jira/simulate.js";
import type { Randomness } from "../providers/template.js";
import type { ProviderName } from "../providers/types.js";
import type { VstsSimulation } from "../providers/vsts/simulate.js";
import { resolveIntegration } from "../pipeline/resolve-integration.js";
import type { Context, ContextFactory } from "./context.js";
import { reportSent } from "./render-sent.js";
import { withoutTrailingSlash } from "../url.js";
import { reportOne } from "./render-outcome.js";
import { integrationOption, dryRunOption, examples, hiddenAlias } from "./options.js";

export interface SimulateOptions {
  integration?: string;
  set?: string[];
  print?: boolean;
  send?: string;
  dryRun?: boolean;
}

/** The flags of `simulate vsts`: the common ones and what the payload builder takes from flags. */
export type VstsSimulateOptions = SimulateOptions & Omit<VstsSimulation, "eventType" | "collectionId" | "orgUrl" | "keptRev">;
export type JiraSimulateOptions = SimulateOptions & Omit<JiraSimulation, "event" | "baseUrl">;

/** The integration the payload is for: its id and URLs go into the payload, its secret into --send. */
export interface SimulationTarget {
  externalId?: string;
  baseUrl: string | null;
  /** The newest revision this store keeps for an external issue of the integration (rule 10.1), else null. */
  newestRevision(externalKey: string): Promise<number | null>;
}

type Build = (target: SimulationTarget, r: Randomness) => Promise<Record<string, unknown>>;

/**
 * Builds the payload from its template, applies --set, then prints it, sends it to a receiver,
 * or runs it through the pipeline exactly as replay does.
 */
export async function runSimulate(ctx: Context, provider: ProviderName, opts: SimulateOptions, build: Build): Promise<void> {
  const { applyOverride, parseOverride } = await import("../providers/template.js");
  const overrides = (opts.set ?? []).map(parseOverride);
  const store = await ctx.store();
  const found = await resolveIntegration(store.integrations, provider, opts.integration);
  // --print needs no secret: it can show a payload for an integration this store does not hold.
  if (!found.ok && !opts.print) throw new UsageError(found.reason, found.hint);
  const integration = found.ok ? found.integration : undefined;

  const integrationId = integration?.id;
  const payload = await build(
    {
      externalId: integration?.externalId ?? opts.integration,
      baseUrl: integration?.baseUrl ?? null,
      newestRevision: async (key) => (integrationId === undefined ? null : store.sync.newestRevision(integrationId, key)),
    },
    { now: ctx.deps.now(), random: ctx.deps.randomBytes },
  );
  for (const o of overrides) applyOverride(payload, o);

  if (opts.print || !integration) {
    if (ctx.json) ctx.out.jsonLine(payload);
    else ctx.out.json(payload);
    return;
  }
  if (opts.send) {
    const { sendToReceiver } = await import("../receiver/send.js");
    const body = Buffer.from(JSON.stringify(payload));
    return reportSent(ctx, await sendToReceiver(opts.send, provider, integration, body));
  }
  // The integration chosen here, as serve's token or secret would name it; unless --set made the
  // VSTS payload name another, which the pipeline then looks up as serve would.
  await reportOne(
    ctx,
    { source: "simulate", body: { ok: true, value: payload }, headers: {}, provider, resolved: integration },
    { source: "simulate", provider, dryRun: opts.dryRun ?? false },
  );
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The flags both trackers share; `setExample` is a --set of that tracker's own payload. */
function commonOptions(cmd: Command, setExample: string): Command {
  return cmd
    .addOption(integrationOption("the integration to simulate (default: the only one of that tracker)"))
    .addOption(
      new Option("--set <path=value>", `override any field, repeatable: ${setExample} (the value as JSON when it parses)`).argParser(
        collect,
      ),
    )
    .addOption(new Option("--print", "write the payload to stdout and stop").conflicts(["send", "dryRun"]))
    .addOption(new Option("--send <url>", "POST it to a running receiver (hooksync serve) with the integration's secret").conflicts("dryRun"))
    .addOption(dryRunOption("run the engine and roll back: show what would change"));
}

export function defineSimulate(program: Command, context: ContextFactory): void {
  const simulate = program
    .command("simulate")
    .description("build a realistic webhook payload: run it through the engine, print it, or send it to a receiver")
    .addHelpText("after", examples("hooksync simulate vsts workitem.updated --work-item 5 --status Resolved", "hooksync simulate jira issue_updated --issue PRJA-37 --assignee jane.doe@example.com"));

  const vsts = commonOptions(
    simulate
      .command("vsts")
      .description("an Azure DevOps service-hook delivery (workitem.updated is the one synced)")
      .addHelpText("after", examples("hooksync simulate vsts workitem.updated --work-item 5 --assignee jane.doe@example.com --status Resolved", "hooksync simulate vsts workitem.updated --work-item 5 --set 'resource.fields[System.State].newValue=Closed' --print", "hooksync simulate vsts workitem.updated --work-item 5 --unassign --send http://127.0.0.1:8080"))
      .argument("<eventType>", "workitem.updated, workitem.created, workitem.commented, git.push, git.pullrequest.created")
      .option("--work-item <id>", "the work item number (workitem.* events)")
      .addOption(new Option("--assignee <identity>", 'the new assignee, "Display Name <email>" or an email (--assign also works)').conflicts("unassign"))
      .option("--unassign", "clear System.AssignedTo")
      .option("--status <name>", "the new System.State, a state name: Active, Closed... (--state also works)")
      .option("--from-status <name>", "the state before, with --status (--from-state also works)")
      .option("--project <id>", "the Azure DevOps project id (resourceContainers.project.id)"),
    "'resource.fields[System.State].newValue=Closed'",
  );
  // cli.md's spellings, and every script written against them.
  hiddenAlias(vsts, "--assign <identity>", "assignee");
  hiddenAlias(vsts, "--state <name>", "status");
  hiddenAlias(vsts, "--from-state <name>", "fromStatus");
  vsts.action(async (eventType: string, opts: VstsSimulateOptions, cmd: Command) => {
    const { simulateVsts, VSTS_EXAMPLE } = await import("../providers/vsts/simulate.js");
    await runSimulate(context(cmd), "vsts", opts, async (target, r) =>
      simulateVsts(
        {
          ...opts,
          eventType,
          collectionId: target.externalId ?? VSTS_EXAMPLE.collectionId,
          orgUrl: target.baseUrl ? `${withoutTrailingSlash(target.baseUrl)}/` : VSTS_EXAMPLE.orgUrl,
          keptRev: opts.workItem ? await target.newestRevision(opts.workItem) : null,
        },
        r,
      ),
    );
  });

  commonOptions(
    simulate
      .command("jira")
      .description("a Jira Server webhook")
      .addHelpText("after", examples("hooksync simulate jira issue_updated --issue PRJA-37 --assignee jane.doe@example.com --status 10001", "hooksync simulate jira issue_updated --issue PRJA-37 --set 'issue.fields.summary=Checkout crash' --print", "hooksync simulate jira issue_created --issue PRJA-38 --send http://127.0.0.1:8080"))
      .argument("<event>", "issue_updated or issue_created")
      .requiredOption("--issue <key>", "the issue key, PRJA-37")
      .addOption(new Option("--assignee <email>", "the new assignee").conflicts("unassign"))
      .option("--unassign", "clear the assignee")
      .option("--status <id>", "the new status id (10001)")
      .option("--from-status <id>", "the status id before (with --status)")
      .option("--project <id>", "the Jira project id (issue.fields.project.id)"),
    "'issue.fields.summary=Checkout crash'",
  ).action(async (event: string, opts: JiraSimulateOptions, cmd: Command) => {
    const { simulateJira, JIRA_EXAMPLE } = await import("../providers/jira/simulate.js");
    await runSimulate(context(cmd), "jira", opts, async (target, r) =>
      simulateJira(
        { ...opts, event: event.replace(/^jira:/, ""), baseUrl: target.baseUrl ? withoutTrailingSlash(target.baseUrl) : JIRA_EXAMPLE.baseUrl },
        r,
      ),
    );
  });
}
