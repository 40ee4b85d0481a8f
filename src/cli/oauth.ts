import { type Command, Option } from "commander";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { JiraCredentials } from "../config/credentials.js";
import { CancelledError, UsageError } from "../errors.js";
import type { BaseHttpOptions } from "../http/client.js";
import type { JiraUser } from "../providers/jira/client.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import type { Context, ContextFactory } from "./context.js";
import { type HttpFlags, integrationFor, withHttp } from "../trackers/sessions.js";
import { addHttpOptions, integrationOption, examples } from "./options.js";

export interface OAuthJiraOptions extends HttpFlags {
  baseUrl?: string;
  consumerKey?: string;
  privateKey?: string;
  integration?: string;
  step?: "request" | "access";
  requestToken?: string;
  requestTokenSecret?: string;
  verifier?: string;
  generateKey?: string;
  browser?: boolean;
}

export interface OAuthResult {
  baseUrl: string;
  consumerKey: string;
  integration: string | null;
  user: { name: string | null; key: string | null; displayName: string | null; emailAddress: string | null };
  credentials: string;
}

const DEFAULT_CONSUMER_KEY = "hooksync";

const missing = (flag: string, hint?: string): never => {
  throw new UsageError(`missing ${flag}`, hint ?? "see 'hooksync oauth jira --help'");
};

/** The three values every form needs, from flags, the integration, or (interactively) questions. */
async function consumer(ctx: Context, opts: OAuthJiraOptions, integration: IntegrationRow | undefined) {
  const { normalizeBaseUrl } = await import("../config/credentials.js");
  const ask = !opts.step;
  const { prompter } = ctx.deps;
  const rawBase = opts.baseUrl ?? integration?.baseUrl ?? (ask ? await prompter.input({ message: "Jira base URL", supply: "--base-url" }) : missing("--base-url"));
  let baseUrl: string;
  try {
    baseUrl = normalizeBaseUrl(rawBase);
  } catch {
    throw new UsageError(`--base-url ${rawBase} is not a URL`, "give Jira's base URL, e.g. https://jira.example.com");
  }
  if (integration?.baseUrl && normalizeBaseUrl(integration.baseUrl) !== baseUrl) {
    ctx.out.info(`note: integration ${integration.externalId} has baseUrl ${integration.baseUrl}, signing in to ${baseUrl}`);
  }
  const consumerKey =
    opts.consumerKey ??
    (ask ? await prompter.input({ message: "Consumer key of Jira's application link", supply: "--consumer-key", default: DEFAULT_CONSUMER_KEY }) : missing("--consumer-key"));
  const keyFile = opts.privateKey ?? (ask ? await askForKey(ctx, baseUrl, consumerKey) : missing("--private-key <pem file>", "or create a key pair first with --generate-key <file>"));
  const path = resolve(ctx.deps.io.cwd, keyFile);
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read --private-key ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, "give the PEM file of the RSA private key");
  }
  return { baseUrl, consumerKey, pem, keyFile };
}

/** Interactive only: use a key file, or make a key pair and walk through the application link. */
async function askForKey(ctx: Context, baseUrl: string, consumerKey: string): Promise<string> {
  const { prompter } = ctx.deps;
  const generate = await prompter.confirm({ message: "No --private-key given. Generate a new RSA key pair for Jira?", supply: "--private-key", default: true });
  if (!generate) return prompter.input({ message: "Private key PEM file", supply: "--private-key" });
  const { configDir } = await import("../config/credentials.js");
  const dir = configDir(ctx.deps.io.env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `jira-${new URL(baseUrl).host.replace(/[^\w.-]/g, "_")}.pem`);
  await writeKeyPair(ctx, file, baseUrl, consumerKey);
  if (!(await prompter.confirm({ message: "Is the application link created?", supply: "--private-key", default: true }))) {
    throw new CancelledError("stopped before the application link existed; run 'hooksync oauth jira' again with --private-key " + file);
  }
  return file;
}

async function writeKeyPair(ctx: Context, file: string, baseUrl: string | undefined, consumerKey: string): Promise<{ privateKeyFile: string; publicKey: string }> {
  const { generateRsaKeyPair } = await import("../providers/jira/oauth.js");
  const { privateKeyPem, publicKeyPem } = generateRsaKeyPair();
  const path = resolve(ctx.deps.io.cwd, file);
  try {
    writeFileSync(path, privateKeyPem, { mode: 0o600, flag: "wx" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot write the private key to ${file}: ${code ?? (err as Error).message}`, code === "EEXIST" ? "hooksync never overwrites a key: choose another file" : "check the directory");
  }
  const where = baseUrl ?? "<jira base url>";
  ctx.out.info(
    [
      `private key written to ${path} (mode 0600); the public key for Jira:`,
      "",
      publicKeyPem.trim(),
      "",
      "A Jira administrator creates the application link (once):",
      `  1. ${where}: Administration > Applications > Application links.`,
      "  2. Enter any URL for hooksync (e.g. https://hooksync.invalid), 'Create new link', continue past the warning.",
      "  3. Application type 'Generic Application', tick 'Create incoming link'.",
      `  4. Incoming link: Consumer Key '${consumerKey}', Consumer Name 'hooksync', Public Key: the lines above.`,
      `Then: hooksync oauth jira --base-url ${where} --consumer-key ${consumerKey} --private-key ${path}`,
    ].join("\n"),
  );
  return { privateKeyFile: path, publicKey: publicKeyPem };
}

export async function runOAuthJira(ctx: Context, opts: OAuthJiraOptions): Promise<OAuthResult | { authorizeUrl: string; requestToken: string; requestTokenSecret: string }> {
  const integration = opts.integration ? (await integrationFor(ctx, "jira", opts.integration)).integration : undefined;
  const { baseUrl, consumerKey, pem, keyFile } = await consumer(ctx, opts, integration);
  if (opts.step === "access") {
    // All three before any request: a script learns every missing flag at once, not one per run.
    const absent = [["--request-token", opts.requestToken], ["--request-token-secret", opts.requestTokenSecret], ["--verifier", opts.verifier]].filter(([, v]) => !v).map(([f]) => f);
    if (absent.length) missing(absent.join(", "), "give the values --step request printed and the code Jira showed");
  } else if (!opts.step && !ctx.deps.io.stdinIsTTY) {
    throw new UsageError("oauth jira asks for the verification code, and there is no terminal", "use --step request, then --step access --request-token <t> --request-token-secret <s> --verifier <code>");
  }
  const { signerFor, jiraHttp, JiraClient } = await import("../providers/jira/client.js");
  const { authorizeUrl, fetchAccessToken, fetchRequestToken } = await import("../providers/jira/oauth.js");
  const signer = signerFor(ctx.deps, consumerKey, pem, keyFile);

  return withHttp(ctx, opts, async (base: BaseHttpOptions) => {
    const http = jiraHttp(base, consumerKey);
    let requestToken = opts.requestToken ?? "";
    let verifier = opts.verifier ?? "";
    if (opts.step !== "access") {
      const t = await fetchRequestToken(http, baseUrl, signer);
      const url = authorizeUrl(baseUrl, t.token);
      if (opts.step === "request") {
        ctx.out.info(`open the URL, sign in to Jira, click Allow, then: hooksync oauth jira --step access --request-token <requestToken> --request-token-secret <requestTokenSecret> --verifier <code>`);
        return { authorizeUrl: url, requestToken: t.token, requestTokenSecret: t.secret };
      }
      ctx.out.info(`Open this URL, sign in to Jira and click Allow:\n\n  ${url}\n`);
      if (ctx.deps.openUrl && opts.browser !== false && (await ctx.deps.prompter.confirm({ message: "Open it in your browser?", supply: "--no-browser", default: true }))) {
        if (!(await ctx.deps.openUrl(url))) ctx.out.info("could not start a browser: open the URL by hand");
      }
      requestToken = t.token;
      verifier = await ctx.deps.prompter.input({ message: "Verification code shown by Jira", supply: "--step access --verifier <code>" });
    }
    const access = await fetchAccessToken(http, baseUrl, signer, requestToken, verifier);
    const me = await new JiraClient(http, baseUrl, signer.signWith(access.token)).myself();
    return save(ctx, { baseUrl, consumerKey, pem, integration, token: access.token, secret: access.secret, expiresInS: access.expiresInS, me });
  });
}

async function save(
  ctx: Context,
  o: { baseUrl: string; consumerKey: string; pem: string; integration: IntegrationRow | undefined; token: string; secret: string; expiresInS: number | undefined; me: JiraUser },
): Promise<OAuthResult> {
  const { CredentialStore } = await import("../config/credentials.js");
  const store = await CredentialStore.open(ctx.deps.io.env);
  const now = ctx.deps.now();
  const creds: JiraCredentials = {
    baseUrl: o.baseUrl,
    consumerKey: o.consumerKey,
    privateKey: o.pem,
    accessToken: o.token,
    accessTokenSecret: o.secret,
    ...(o.integration ? { integration: o.integration.externalId } : {}),
    user: { ...(o.me.name ? { name: o.me.name } : {}), ...(o.me.key ? { key: o.me.key } : {}), ...(o.me.displayName ? { displayName: o.me.displayName } : {}) },
    savedAt: now.toISOString(),
    ...(o.expiresInS ? { expiresAt: new Date(now.getTime() + o.expiresInS * 1000).toISOString() } : {}),
  };
  store.saveJira(creds);
  return {
    baseUrl: o.baseUrl,
    consumerKey: o.consumerKey,
    integration: o.integration?.externalId ?? null,
    user: { name: o.me.name ?? null, key: o.me.key ?? null, displayName: o.me.displayName ?? null, emailAddress: o.me.emailAddress || null },
    credentials: store.path,
  };
}

export function defineOAuth(program: Command, context: ContextFactory): void {
  const oauth = program.command("oauth").description("authorise hooksync with a tracker")
      .addHelpText("after", examples("hooksync oauth jira --base-url https://jira.example.com --consumer-key hooksync --generate-key"));
  addHttpOptions(
    oauth
      .command("jira")
      .description("OAuth 1.0a (RSA-SHA1) with Jira Server: interactive on a terminal, or two steps (--step) for scripts")
      .addHelpText("after", examples("hooksync oauth jira --base-url https://jira.example.com --consumer-key hooksync --private-key jira.pem", "hooksync oauth jira --base-url https://jira.example.com --consumer-key hooksync --private-key jira.pem --step request   # scripts: step 1 of 2"))
      .option("--base-url <url>", "Jira's base URL (default: the integration's)")
      .option("--consumer-key <key>", "the consumer key of Jira's incoming application link")
      .option("--private-key <pem file>", "the RSA private key whose public key is in the application link")
      .addOption(integrationOption("tie the credentials to this jira integration"))
      .addOption(new Option("--step <step>", "scripts: 'request' prints the authorize URL and request token; 'access' finishes").choices(["request", "access"]))
      .option("--request-token <token>", "with --step access: the requestToken --step request printed")
      .option("--request-token-secret <secret>", "with --step access: the requestTokenSecret --step request printed")
      .option("--verifier <code>", "with --step access: the verification code Jira showed")
      .option("--generate-key <file>", "write a new RSA key pair (private key to <file>, 0600), print the public key and the steps to create Jira's application link")
      .option("--no-browser", "do not offer to open the authorize URL in a browser"),
  ).action(async (opts: OAuthJiraOptions, cmd: Command) => {
    const ctx = context(cmd);
    if (opts.generateKey) {
      const made = await writeKeyPair(ctx, opts.generateKey, opts.baseUrl, opts.consumerKey ?? DEFAULT_CONSUMER_KEY);
      return ctx.json ? ctx.out.json(made) : ctx.out.text(made.publicKey.trim());
    }
    const result = await runOAuthJira(ctx, opts);
    if ("authorizeUrl" in result) return ctx.out.json(result);
    if (ctx.json) return ctx.out.json(result);
    const who = result.user.displayName ? `${result.user.displayName} (${result.user.name ?? result.user.key})` : (result.user.name ?? "?");
    ctx.out.text(`signed in to ${result.baseUrl} as ${who}; credentials saved to ${result.credentials}`);
  });
}
