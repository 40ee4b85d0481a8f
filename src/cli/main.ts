import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import type { Deps } from "../deps.js";
import { HooksyncError, PartialFailure, permissionProblem } from "../errors.js";
import { Context, type GlobalOptions } from "./context.js";
import { commandPath, commands, readsOnly } from "./registry.js";
import { examples } from "./options.js";

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

/**
 * The program. Only bin/hooksync.js exits: main returns the exit code, so tests run commands
 * in-process with injected streams.
 */
export async function main(argv: string[], deps: Deps): Promise<number> {
  const { io } = deps;
  const contexts: Context[] = [];
  const program = new Command("hooksync")
    .description("Sync Azure DevOps and Jira Server webhooks into a local store.")
    .version(version, "-V, --version")
    .option("--db <path|url>", "the store: a SQLite file path, or postgres://user@host:5432/db (env HOOKSYNC_DB)")
    .option("--json", "machine output on stdout")
    .option("--no-color", "plain output (also NO_COLOR)")
    .option("-q, --quiet", "less on stderr")
    .option("-v, --verbose", "more on stderr")
    .option("--migrate", "let a read-only command migrate a store made by an older hooksync")
    .addHelpText("after", examples("hooksync init --demo --db demo.db   # a store with the demo data", "hooksync replay examples/payloads --db demo.db", "hooksync issue list --db demo.db"))
    .showHelpAfterError(false)
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => {},
    });

  const context = (command: Command): Context => {
    const ctx = new Context(deps, command.optsWithGlobals<GlobalOptions>(), readsOnly(commandPath(command)));
    contexts.push(ctx);
    return ctx;
  };
  for (const define of commands) define(program, context);
  // The command whose parsing failed: a usage error points at that command's own help.
  let failedIn: Command = program;
  const applyOverrides = (cmd: Command): void => {
    cmd.exitOverride((err) => {
      failedIn = cmd;
      throw err;
    });
    cmd.configureOutput({ outputError: () => {} });
    cmd.commands.forEach(applyOverrides);
  };
  applyOverrides(program);

  const json = argv.includes("--json");
  if (json && argv.length === 2 && argv.some((a) => a === "--version" || a === "-V")) {
    io.stdout.write(`${JSON.stringify({ version })}\n`);
    return 0;
  }
  try {
    await program.parseAsync(helpOf(argv), { from: "user" });
    return 0;
  } catch (err) {
    return report(err, json, deps, commandPath(failedIn));
  } finally {
    for (const ctx of contexts) await ctx.close();
  }
}

/** `help issue list` as `issue list --help`: commander's help command looks one level down only. */
const helpOf = (argv: string[]): string[] => (argv[0] === "help" && argv.length > 2 ? [...argv.slice(1), "--help"] : argv);

function report(err: unknown, json: boolean, deps: Deps, failedIn = ""): number {
  const { io } = deps;
  if (err instanceof CommanderError) {
    if (err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version") return 0;
    // A command group without its subcommand: commander has printed the group's help to stderr.
    if (err.code === "commander.help") return 2;
    // "error: unknown option '--x'" -> one line in our format, usage exit code; commander's
    // "(Did you mean issue?)" on a line of its own joins the hint.
    const [message, suggestion] = err.message.replace(/^error:\s*/, "").split(/\n\(Did you mean (.*)\?\)/);
    const help = `see 'hooksync ${failedIn ? `${failedIn} ` : ""}--help'`;
    return emit(io, json, "usage", message!, suggestion ? `did you mean ${suggestion}? ${help}` : help, 2);
  }
  if (err instanceof HooksyncError) {
    const message = err.problems?.length ? `${err.message}: ${err.problems.join("; ")}` : err.message;
    return emit(io, json && !(err instanceof PartialFailure), err.kind, message, err.hint, err.exitCode, err.problems);
  }
  const denied = permissionProblem(err);
  if (denied) return report(denied, json, deps);
  const e = err as Error;
  if (io.env.HOOKSYNC_DEBUG === "1") io.stderr.write(`${e?.stack ?? String(err)}\n`);
  return emit(io, json, "bug", e?.message ?? String(err), "this is a bug in hooksync; HOOKSYNC_DEBUG=1 shows the stack", 1);
}

function emit(
  io: Deps["io"],
  json: boolean,
  kind: string,
  message: string,
  hint: string | undefined,
  code: number,
  problems?: string[],
): number {
  // One line whatever the message quotes (a file's bad JSON, an error from a library).
  const line = (text: string) => text.replace(/\s*\n\s*/g, " ");
  message = line(message);
  hint = hint && line(hint);
  io.stderr.write(`hooksync: ${message}${hint ? ` (${hint})` : ""}\n`);
  if (json) io.stdout.write(JSON.stringify({ error: { kind, message, hint: hint ?? null, ...(problems ? { problems } : {}) } }) + "\n");
  return code;
}
