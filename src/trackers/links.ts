import { UpstreamError, UsageError } from "../errors.js";
import { type ExternalIssue, type ProviderName, providerNames } from "../providers/types.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import type { Store } from "../store/store.js";
import { type SessionHost, type VstsFlags, integrationFor, withJira, withVsts } from "./sessions.js";

export type LinkAction = "linked" | "already linked" | "unlinked" | "not linked";

/** `hooksync link|unlink --json`. */
export interface LinkResult {
  issue: string;
  integration: string;
  externalKey: string;
  action: LinkAction;
  /** The external issue as the tracker showed it when linking; null when not asked (--no-verify, already linked, unlink). */
  external: ExternalIssue | null;
}

export interface LinkOptions extends VstsFlags {
  /** False with --no-verify. */
  verify?: boolean;
}

const WORDS: Record<ProviderName, { thing: string; key: string; example: string }> = {
  vsts: { thing: "work item", key: "work item id", example: "123" },
  jira: { thing: "issue", key: "Jira issue key", example: "PROJ-123" },
};

interface Target {
  store: Store;
  integration: IntegrationRow;
  issueId: number;
  /** As the tracker's webhooks name it, so a link matches them: "123" (no leading zeros), "PROJ-12". */
  externalKey: string;
}

async function providerModules() {
  const [vsts, jira] = await Promise.all([import("../providers/vsts/issues.js"), import("../providers/jira/issues.js")]);
  return { vsts, jira };
}

/**
 * The local issue, the integration (--integration, else the only one of the provider whose key
 * shape rawKey has) and the external key written as that provider's webhooks write it.
 */
async function target(ctx: SessionHost, issue: string, rawKey: string, integrationId: string | undefined): Promise<Target> {
  const { externalKeyOf: keyOf } = await import("../providers/keys.js");
  const guessed = integrationId ? undefined : providerNames.find((p) => keyOf[p](rawKey) !== undefined);
  const { store, integration } = await integrationFor(ctx, guessed, integrationId);
  const externalKey = keyOf[integration.provider](rawKey);
  const words = WORDS[integration.provider];
  if (!externalKey) throw new UsageError(`${rawKey} is not a ${words.key}`, `integration ${integration.externalId} is ${integration.provider}: give a key like ${words.example}`);
  const issueId = await store.links.issueId(issue);
  if (issueId === undefined) throw new UsageError(`no issue ${issue}`, "see 'hooksync issue list'");
  return { store, integration, issueId, externalKey };
}

/** The external issue as the tracker has it; a missing one is a failure that says how to link anyway. */
async function verify(ctx: SessionHost, opts: LinkOptions, t: Target): Promise<ExternalIssue> {
  const { vsts, jira } = await providerModules();
  const flags = { ...opts, resolved: t.integration };
  const found =
    t.integration.provider === "vsts"
      ? await withVsts(ctx, flags, ({ client }) => vsts.workItemIssue(client, Number(t.externalKey)), "work items")
      : await withJira(ctx, flags, ({ client }) => jira.jiraIssue(client, t.externalKey));
  if (found) return found;
  const words = WORDS[t.integration.provider];
  throw new UpstreamError(
    `no ${words.thing} ${t.externalKey} in ${t.integration.name}`,
    `check the ${words.key}; the tracker answers the same when the token's user may not see it; --no-verify links it anyway`,
  );
}

const result = (issue: string, t: Target, action: LinkAction, external: ExternalIssue | null = null): LinkResult => ({
  issue,
  integration: t.integration.externalId,
  externalKey: t.externalKey,
  action,
  external,
});

/** Idempotent: linking a pair already linked changes nothing and asks the tracker nothing. */
export async function runLink(ctx: SessionHost, issue: string, rawKey: string, opts: LinkOptions): Promise<{ result: LinkResult; name: string }> {
  const t = await target(ctx, issue, rawKey, opts.integration);
  const name = t.integration.name;
  if (await t.store.links.has(t.issueId, t.integration.id, t.externalKey)) return { result: result(issue, t, "already linked"), name };
  const external = opts.verify === false ? null : await verify(ctx, opts, t);
  const added = await t.store.links.add(t.issueId, t.integration.id, t.externalKey);
  const outside = await t.store.links.outsideOrganization(t.issueId, t.integration.id);
  if (outside) {
    ctx.out.info(
      `warning: integration ${t.integration.externalId} does not belong to organization ${outside}, so its webhooks will not sync ${issue} ` +
        `(add "${outside}" to the integration's organizations and run 'hooksync import')`,
    );
  }
  return { result: result(issue, t, added ? "linked" : "already linked", external), name };
}

export async function runUnlink(ctx: SessionHost, issue: string, rawKey: string, opts: { integration?: string }): Promise<{ result: LinkResult; name: string }> {
  const t = await target(ctx, issue, rawKey, opts.integration);
  const removed = await t.store.links.delete(t.issueId, t.integration.id, t.externalKey);
  return { result: result(issue, t, removed ? "unlinked" : "not linked"), name: t.integration.name };
}
