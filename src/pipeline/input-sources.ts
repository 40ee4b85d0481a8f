import { createReadStream } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { UsageError } from "../errors.js";
import { type Batches, readBatches } from "./inputs.js";

/** One input to read, or a directory entry that cannot be read, with why (a rejected input). */
export type InputSource = { label: string; size: number | null; open(): AsyncIterable<Buffer> } | { label: string; size: 0; refused: string };

const PAYLOAD_FILE = /\.(nd)?json$/i;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Files, directories (their *.json and *.ndjson, sorted by name) and `-` for stdin. */
export async function resolveInputs(inputs: string[], stdin: Readable, cwd: string): Promise<InputSource[]> {
  if (inputs.length === 0) throw new UsageError("no input given", "name files, directories or - for stdin");
  const out: InputSource[] = [];
  for (const input of inputs) {
    if (input === "-") {
      out.push({ label: "stdin", size: null, open: () => stdin });
      continue;
    }
    const path = resolve(cwd, input);
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new UsageError(`no such file or directory: ${input}`, "check the path");
    }
    if (info.isDirectory()) out.push(...(await directorySources(input, path)));
    else out.push(fileSource(input, path, info.size));
  }
  return out;
}

/**
 * A directory's payload files. An entry that cannot be read (a dangling symbolic link, a link
 * loop, a name that is not UTF-8) is one rejected input: the rest of the directory is replayed.
 */
async function directorySources(input: string, path: string): Promise<InputSource[]> {
  // Raw names: Linux allows any bytes but "/" and NUL, and a decoded name would not find its file.
  const entries = (await readdir(path, { encoding: "buffer" }))
    .filter((raw) => PAYLOAD_FILE.test(raw.toString("latin1")))
    .map((raw) => ({ raw, name: utf8Name(raw) }))
    .sort((a, b) => (a.name.shown < b.name.shown ? -1 : a.name.shown > b.name.shown ? 1 : 0));
  if (entries.length === 0) throw new UsageError(`${input} holds no .json or .ndjson file`, "name the files to replay");
  const out: InputSource[] = [];
  for (const { name } of entries) {
    const label = join(input, name.shown);
    if (!name.valid) {
      out.push({ label, size: 0, refused: "file name is not valid UTF-8 (rename it to replay it)" });
      continue;
    }
    const file = join(path, name.shown);
    let info;
    try {
      info = await stat(file);
    } catch (err) {
      out.push({ label, size: 0, refused: await unreadable(file, err) });
      continue;
    }
    if (info.isFile()) out.push(fileSource(label, file, info.size));
  }
  return out;
}

/** The name as text; bytes that are not UTF-8 shown as \xNN, so the label stays one plain line. */
function utf8Name(raw: Buffer): { valid: boolean; shown: string } {
  try {
    return { valid: true, shown: utf8.decode(raw) };
  } catch {
    const shown = [...raw].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");
    return { valid: false, shown };
  }
}

async function unreadable(file: string, err: unknown): Promise<string> {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code !== "string") throw err;
  if (code === "ELOOP") return "symbolic link loop";
  if (code === "ENOENT") {
    const link = await lstat(file).then((s) => s.isSymbolicLink(), () => false);
    return link ? "dangling symbolic link: its target does not exist" : "removed while the directory was read";
  }
  return `cannot read it (${code})`;
}

/**
 * A file is read 1 MiB at a time: replay commits once a read (about 200 payloads of the trackers'
 * size), and a commit's sync was a fifth of its time at 256 KiB.
 */
function fileSource(label: string, path: string, size: number): InputSource {
  return { label, size, open: () => createReadStream(path, { highWaterMark: 1024 * 1024 }) };
}

/**
 * The payloads of one input (see readBatches); a refused entry, or a file that cannot be opened
 * or read (removed since it was listed, no permission), is one rejected payload, not the run's end.
 */
export async function* readSource(src: InputSource, onBytes: (n: number) => void): Batches {
  if ("refused" in src) {
    yield [{ source: src.label, body: { ok: false, reason: src.refused } }];
    return;
  }
  try {
    yield* readBatches(src.open(), src.label, onBytes);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e.syscall !== "string") throw err;
    yield [{ source: src.label, body: { ok: false, reason: `cannot read it (${e.code ?? e.message})` } }];
  }
}
