import type { Command } from "commander";
import { CancelledError, UsageError } from "../errors.js";
import type { DeletedProject } from "../store/projects-repo.js";
import type { Context, ContextFactory } from "./context.js";
import { examples } from "./options.js";

/** Rule 9.2: after a confirmation (or --yes), the project and everything hanging off its issues, in one transaction. */
export async function runProjectDelete(ctx: Context, slug: string, opts: { yes?: boolean }): Promise<DeletedProject> {
  const store = await ctx.store();
  const issues = await store.projects.issueCount(slug);
  if (issues === undefined) throw new UsageError(`no project ${slug}`, "see 'hooksync issue list'");
  if (!opts.yes) {
    if (!ctx.deps.io.stdinIsTTY) throw new UsageError(`deleting project ${slug} needs a confirmation, and there is no terminal to ask on`, "pass --yes to delete without asking");
    const sure = await ctx.deps.prompter.confirm({
      message: `Delete project ${slug} with its ${issues} issue${issues === 1 ? "" : "s"}, their links, activity and pushes? This cannot be undone.`,
      supply: "--yes",
      default: false,
    });
    if (!sure) throw new CancelledError(`project ${slug} was not deleted`);
  }
  // Asked before, counted inside: what the transaction removed, even if a writer came in between.
  const deleted = await store.inTransaction((tx) => tx.projects.delete(slug));
  if (!deleted) throw new UsageError(`no project ${slug}`, "another hooksync deleted it meanwhile");
  return deleted;
}

function render(ctx: Context, d: DeletedProject): void {
  if (ctx.json) return ctx.out.json(d);
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? "" : "s"}`;
  ctx.out.text(
    `deleted project ${d.project}: ${n(d.issues, "issue")}, ${n(d.links, "link")}, ${n(d.activity, "activity row")}, ` +
      `${n(d.memberships, "membership")}, ${n(d.outbox, "outbox row")}, ${n(d.discordMessages, "Discord message id")}`,
  );
}

export function defineProject(program: Command, context: ContextFactory): void {
  const project = program.command("project").description("local projects")
      .addHelpText("after", examples("hooksync project list"));
  project
    .command("list")
    .description("list local projects with their organization and issue count")
    .addHelpText("after", examples("hooksync project list --json"))
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const projects = await (await ctx.store()).projects.list();
      if (ctx.json) return ctx.out.json(projects);
      if (!projects.length) return ctx.out.text("no projects (import some with 'hooksync import <file>')");
      for (const p of projects) ctx.out.text(`${p.slug}  ${p.name}  (${p.organization}, ${p.issues} issue${p.issues === 1 ? "" : "s"})`);
    });
  project
    .command("delete")
    .description("delete a project with its issues, links, activity, outbox rows and notification state (asks first)")
    .addHelpText("after", examples("hooksync project delete backend", "hooksync project delete backend --yes   # in a script: no question asked"))
    .argument("<slug>", "the project")
    .option("-y, --yes", "do not ask (scripts)")
    .action(async (slug: string, opts: { yes?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      render(ctx, await runProjectDelete(ctx, slug, opts));
    });
}
