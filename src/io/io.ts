import type { Readable, Writable } from "node:stream";

/** The process's streams and environment, passed in so every command runs in-process in tests. */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
}

export interface OutputOptions {
  json: boolean;
  color: boolean;
  quiet: boolean;
  verbose: boolean;
}

/** Writes human text to stdout, or to stderr when stdout carries JSON. */
export class Output {
  constructor(
    readonly io: Io,
    readonly opts: OutputOptions,
  ) {}

  /** The main result for a person (stdout unless --json took it). */
  text(line: string): void {
    (this.opts.json ? this.io.stderr : this.io.stdout).write(line + "\n");
  }

  /** Side remarks for a person: always stderr, silenced by --quiet. */
  info(line: string): void {
    if (!this.opts.quiet) this.io.stderr.write(line + "\n");
  }

  verbose(line: string): void {
    if (this.opts.verbose && !this.opts.quiet) this.io.stderr.write(line + "\n");
  }

  json(value: unknown): void {
    this.io.stdout.write(JSON.stringify(value, null, 2) + "\n");
  }

  jsonLine(value: unknown): void {
    this.io.stdout.write(JSON.stringify(value) + "\n");
  }
}
