import envPaths from "env-paths";
import { join } from "node:path";
import type { Command } from "commander";
import type { Deps } from "../deps.js";
import { Output } from "../io/io.js";
import { makeStyle, type Style } from "../io/style.js";
import type { OpenOptions } from "../store/db.js";
import type { Store } from "../store/store.js";

export interface GlobalOptions {
  db?: string;
  json?: boolean;
  color?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** What one command invocation works with: output, style, and the store opened on demand. */
export class Context {
  readonly out: Output;
  readonly style: Style;
  private opened?: Store;

  constructor(
    readonly deps: Deps,
    readonly opts: GlobalOptions,
  ) {
    const env = deps.io.env;
    const color = opts.color !== false && !env.NO_COLOR && (opts.json ? deps.io.stderrIsTTY : deps.io.stdoutIsTTY);
    this.out = new Output(deps.io, {
      json: opts.json === true,
      color,
      quiet: opts.quiet === true,
      verbose: opts.verbose === true,
    });
    this.style = makeStyle(color);
  }

  get json(): boolean {
    return this.opts.json === true;
  }

  get dbPath(): string {
    const env = this.deps.io.env;
    return this.opts.db ?? env.HOOKSYNC_DB ?? join(envPaths("hooksync", { suffix: "" }).data, "hooksync.db");
  }

  async store(opts?: OpenOptions): Promise<Store> {
    return (this.opened ??= await this.deps.openStore(this.dbPath, opts));
  }

  close(): void {
    this.opened?.close();
  }
}

/** The context of the command being run, with the global options merged in. */
export type ContextFactory = (command: Command) => Context;
