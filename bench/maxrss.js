// Loaded with `node --import` into a measured process: reports its peak RSS when it exits.
import { writeSync } from "node:fs";

process.on("exit", () => {
  writeSync(2, `\nBENCH_MAXRSS_KB=${process.resourceUsage().maxRSS}\n`);
});
