import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { RejectedInputError, UsageError } from "../errors.js";

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

/** One whole JSON document from a file or `-` (stdin), with a one-line error naming the file. */
export async function readJsonDocument(path: string, stdin: Readable, cwd: string): Promise<unknown> {
  let text: string;
  if (path === "-") text = await readAll(stdin);
  else {
    try {
      text = await readFile(resolve(cwd, path), "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`cannot read ${path}: ${code === "ENOENT" ? "no such file" : (err as Error).message}`, "check the path");
    }
  }
  if (text.trim() === "") throw new RejectedInputError(`${path} is empty`, "it must hold one JSON object");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RejectedInputError(`${path} is not valid JSON: ${(err as Error).message}`, "fix the file and try again");
  }
}
