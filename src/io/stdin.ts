import type { Readable } from "node:stream";
import { UsageError } from "../errors.js";
import type { Io } from "./io.js";

/** All of a stream, as UTF-8 text. */
export async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A secret piped in for `flag` (a token, a webhook URL), trimmed: never a flag value, which the
 * process list and shell history would show. A terminal or an empty stdin is a usage error.
 */
export async function readStdinSecret(
  io: Pick<Io, "stdin" | "stdinIsTTY">,
  s: { flag: string; short: string; long: string; envName: string },
): Promise<string> {
  if (io.stdinIsTTY) throw new UsageError(`${s.flag} reads the ${s.short} from stdin, but stdin is a terminal`, `pipe it in, or set ${s.envName}`);
  const secret = (await readText(io.stdin)).trim();
  if (!secret) throw new UsageError(`${s.flag}: stdin was empty`, `pipe the ${s.long} in`);
  return secret;
}
