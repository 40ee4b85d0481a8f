/**
 * Typed errors with the exit code the contract gives them (cli.md). Anything that is not a
 * HooksyncError is a bug: exit 1, stack only with HOOKSYNC_DEBUG=1.
 */
export type ErrorKind = "usage" | "auth" | "upstream" | "store" | "rejected" | "cancelled" | "permission";

export class HooksyncError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly exitCode: number,
    message: string,
    readonly hint?: string,
    readonly problems?: string[],
  ) {
    super(message);
  }
}

export class UsageError extends HooksyncError {
  constructor(message: string, hint?: string) {
    super("usage", 2, message, hint);
  }
}

export class AuthError extends HooksyncError {
  constructor(message: string, hint?: string) {
    super("auth", 4, message, hint);
  }
}

export class UpstreamError extends HooksyncError {
  constructor(
    message: string,
    hint?: string,
    /** The server asked to be left alone this long (Retry-After): a queued push waits at least that. */
    readonly retryAfterMs?: number,
  ) {
    super("upstream", 1, message, hint);
  }
}

export class StoreError extends HooksyncError {
  constructor(message: string, hint?: string) {
    super("store", 1, message, hint);
  }
}

/**
 * The store's server cannot be reached now (PostgreSQL down, a connection lost): the receiver
 * answers 503 with Retry-After instead of failing, and the next statement connects again.
 */
export class StoreUnavailableError extends StoreError {}

/** Input refused whole; `problems` lists each one by its JSON path. */
export class RejectedInputError extends HooksyncError {
  constructor(message: string, hint?: string, problems?: string[]) {
    super("rejected", 1, message, hint, problems);
  }
}

export class CancelledError extends HooksyncError {
  constructor(message = "cancelled") {
    super("cancelled", 130, message);
  }
}

/**
 * The command ran to the end and already reported each failure on its own line (replay's
 * rejected payloads): exit 1 with a summary on stderr, no JSON error object mixed into stdout.
 */
export class PartialFailure extends HooksyncError {
  constructor(message: string, hint?: string) {
    super("rejected", 1, message, hint);
  }
}

/**
 * A file or directory this user may not read or write is the user's to fix, not a bug: the
 * one-line error for an EACCES / EPERM / EROFS that no command caught, or null for anything else.
 */
export function permissionProblem(err: unknown): HooksyncError | null {
  const e = err as NodeJS.ErrnoException | null;
  if (!e || !["EACCES", "EPERM", "EROFS"].includes(e.code ?? "") || !e.path) return null;
  const what = e.code === "EROFS" ? "is on a read-only filesystem" : "is not accessible to this user";
  return new HooksyncError("permission", 1, `${e.path} ${what} (${e.syscall ?? "access"} failed)`, "check its owner and mode, or point hooksync elsewhere");
}
