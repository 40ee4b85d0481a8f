import { Writable } from "node:stream";
import { CancelledError, UsageError } from "../errors.js";
import type { Io } from "./io.js";

/** A question and what supplies its answer without a terminal ("--verifier", "AZURE_DEVOPS_EXT_PAT"). */
export interface Question {
  message: string;
  /** The flag or env var named in the usage error when there is no TTY to ask. */
  supply: string;
}

export interface Prompter {
  input(q: Question & { default?: string }): Promise<string>;
  /** Typed without echo: tokens, secrets. */
  password(q: Question): Promise<string>;
  confirm(q: Question & { default?: boolean }): Promise<boolean>;
}

/**
 * @inquirer/prompts on the injected streams (questions on stderr, so stdout stays clean for
 * --json). Without a TTY on stdin nothing is ever asked: the question becomes a usage error that
 * names what supplies the value.
 */
export function terminalPrompter(io: Io): Prompter {
  // The prompt pipes into its output and ends it when done; a pass-through shields stderr from that.
  const output = () => new Writable({ write: (chunk, encoding, done) => void io.stderr.write(chunk, encoding, done) });
  const context = () => ({ input: io.stdin, output: output(), clearPromptOnDone: false });
  const ask = async <T>(q: Question, run: (p: typeof import("@inquirer/prompts")) => Promise<T>): Promise<T> => {
    if (!io.stdinIsTTY) throw new UsageError(`${q.message}: no terminal to ask on`, `supply it with ${q.supply}`);
    const prompts = await import("@inquirer/prompts");
    try {
      return await run(prompts);
    } catch (err) {
      // Ctrl-C, a closed stdin or an aborted prompt: the user walked away, not a bug.
      if (err instanceof Error && /Exit|Cancel|Abort/.test(err.name)) throw new CancelledError();
      throw err;
    }
  };
  return {
    input: (q) =>
      ask(q, (p) =>
        p.input(
          { message: q.message, required: true, ...(q.default !== undefined ? { default: q.default } : {}), validate: (v) => v.trim() !== "" || "required" },
          context(),
        ).then((v) => v.trim()),
      ),
    password: (q) =>
      ask(q, (p) => p.password({ message: q.message, validate: (v) => v.trim() !== "" || "required" }, context()).then((v) => v.trim())),
    confirm: (q) => ask(q, (p) => p.confirm({ message: q.message, default: q.default ?? true }, context())),
  };
}
