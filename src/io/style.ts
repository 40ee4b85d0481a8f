import { Chalk, type ChalkInstance } from "chalk";

export type Style = ChalkInstance;

/**
 * Colour is decided once from the injected Io and flags (--no-color, NO_COLOR, a TTY), not by
 * chalk's own look at the real process, so tests and pipes get plain text.
 */
export function makeStyle(enabled: boolean): Style {
  return new Chalk({ level: enabled ? 1 : 0 });
}

const ANSI = /\u001b\[[0-9;]*m/g;

/** Pads cells into aligned columns; widths ignore ANSI codes. */
export function table(rows: string[][], header: string[], style: Style): string {
  const visible = (s: string) => s.replace(ANSI, "").length;
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visible(r[i] ?? ""))));
  const line = (r: string[]) =>
    r.map((cell, i) => (i === r.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - visible(cell)))).join("  ");
  return [style.bold(line(header)), ...rows.map(line)].join("\n");
}
