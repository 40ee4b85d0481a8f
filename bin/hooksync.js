#!/usr/bin/env node
import { main } from "../dist/cli/main.js";
import { processDeps } from "../dist/deps.js";

process.exitCode = await main(process.argv.slice(2), processDeps());
