import type { Command } from "commander";
import { readStdinSecret } from "../io/stdin.js";
import { JIRA_TOKEN_ENV } from "../trackers/credentials.js";
import type { ContextFactory } from "./context.js";
import { type HttpFlags, integrationFor, withHttp } from "../trackers/sessions.js";
import { addHttpOptions, onlyIntegrationOption, examples } from "./options.js";

interface LoginJiraOptions extends HttpFlags {
  integration?: string;
  tokenStdin?: boolean;
}

export function defineLogin(program: Command, context: ContextFactory): void {
  const login = program.command("login").description("store a tracker token for an integration")
      .addHelpText("after", examples("hooksync login jira --token-stdin < jira-token.txt"));
  addHttpOptions(
    login
      .command("jira")
      .description(`store a Jira personal access token (Bearer; Jira Data Center 8.14+) instead of OAuth credentials; ${JIRA_TOKEN_ENV} does the same for one run`)
      .addHelpText("after", examples("hooksync login jira --token-stdin < jira-token.txt", "hooksync login jira --integration jira-acme   # asks for the token on a terminal"))
      .addOption(onlyIntegrationOption("jira"))
      .option("--token-stdin", "read the personal access token from stdin (else asked for on a terminal)"),
  ).action(async (opts: LoginJiraOptions, cmd: Command) => {
    const ctx = context(cmd);
    const { integration } = await integrationFor(ctx, "jira", opts.integration);
    const token = opts.tokenStdin
      ? await readStdinSecret(ctx.deps.io, { flag: "--token-stdin", short: "token", long: "personal access token", envName: JIRA_TOKEN_ENV })
      : await ctx.deps.prompter.password({ message: "Jira personal access token", supply: "--token-stdin" });
    const { loginJira } = await import("../trackers/jira-login.js");
    const result = await withHttp(ctx, opts, (base) => loginJira(ctx.deps, integration, token, base));
    if (ctx.json) return ctx.out.json(result);
    ctx.out.text(`signed in to ${result.baseUrl} as ${result.user.displayName ?? result.user.name ?? "?"} with a personal access token; saved to ${result.credentials}`);
  });
}
