import envPaths from "env-paths";
import { join } from "node:path";
import type { Command } from "commander";
import type { Deps } from "../deps.js";
import { Output } from "../io/io.js";
import { makeStyle, type Style } from "../io/style.js";
import type { Store, StoreOptions } from "../store/store.js";

export interface GlobalOptions {
  db?: string;
  json?: boolean;
  color?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  /** Lets a read-only command migrate an older store. */
  migrate?: boolean;
}

/** Where the store of a run comes from, for messages that tell a user how to point elsewhere. */
export type DbOrigin = "--db" | "HOOKSYNC_DB" | "default";

/** hooksync.db in the user's data dir: the store when neither --db nor HOOKSYNC_DB names one. */
export const defaultDbPath = (): string => join(envPaths("hooksync", { suffix: "" }).data, "hooksync.db");

/** What one command invocation works with: output, style, and the store opened on demand. */
export class Context {
  readonly out: Output;
  readonly style: Style;
  private opened?: Store;

  constructor(
    readonly deps: Deps,
    readonly opts: GlobalOptions,
    /** The command only reads the store: it refuses to migrate one unless --migrate is given. */
    private readonly readsOnly = false,
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

  get dbOrigin(): DbOrigin {
    if (this.opts.db !== undefined) return "--db";
    return this.deps.io.env.HOOKSYNC_DB ? "HOOKSYNC_DB" : "default";
  }

  /** Whether this command may migrate an older store: any that writes, or one given --migrate. */
  get migrateAllowed(): boolean {
    return !this.readsOnly || this.opts.migrate === true;
  }

  get dbPath(): string {
    return this.opts.db ?? (this.deps.io.env.HOOKSYNC_DB || defaultDbPath());
  }

  /**
   * The store, which must exist (only `init` passes mustExist: false); a migration is announced on
   * stderr, and refused to a read-only command without --migrate.
   */
  async store(opts?: StoreOptions): Promise<Store> {
    return (this.opened ??= await this.deps.openStore(this.dbPath, {
      mustExist: true,
      migrate: this.migrateAllowed,
      log: (line) => this.deps.io.stderr.write(`${line}\n`),
      ...opts,
    }));
  }

  /** Closes the store if this command opened it, once: serve closes it as it stops, main again at the end. */
  async close(): Promise<void> {
    const store = this.opened;
    this.opened = undefined;
    await store?.close();
  }
}

/** The context of the command being run, with the global options merged in. */
export type ContextFactory = (command: Command) => Context;
