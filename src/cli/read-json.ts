import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { RejectedInputError, UsageError } from "../errors.js";
import { readText } from "../io/stdin.js";

/** One whole JSON document from a file or `-` (stdin), with a one-line error naming the file. */
export async function readJsonDocument(path: string, stdin: Readable, cwd: string): Promise<unknown> {
  let text: string;
  if (path === "-") text = await readText(stdin);
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
