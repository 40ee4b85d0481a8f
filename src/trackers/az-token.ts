import { execFile } from "node:child_process";
import { AuthError, UpstreamError, UsageError } from "../errors.js";
import { AZURE_DEVOPS_RESOURCE } from "../providers/vsts/auth.js";

export interface RunResult {
  /** null when the program could not be started at all (not installed). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell, so nothing in its arguments is interpreted. */
export type Runner = (command: string, args: string[], env: Record<string, string | undefined>) => Promise<RunResult>;

export const execRunner: Runner = (command, args, env) =>
  new Promise((resolve) => {
    // On Windows az is az.cmd, which only a shell starts; the arguments are fixed, never user text.
    execFile(command, args, { env, timeout: 60_000, maxBuffer: 1 << 20, shell: process.platform === "win32" }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });

const firstLine = (text: string): string => text.trim().split("\n").find((l) => l.trim())?.trim() ?? "no output";

/** An Entra ID access token for Azure DevOps from the signed-in az CLI (`--az-token`). */
export async function azAccessToken(env: Record<string, string | undefined>, run: Runner = execRunner): Promise<string> {
  const r = await run("az", ["account", "get-access-token", "--resource", AZURE_DEVOPS_RESOURCE, "--output", "json"], env);
  if (r.code === null) {
    throw new UsageError("--az-token: the az CLI could not be run (is it installed and on PATH?)", "install it and run 'az login', or pass a token with AZURE_DEVOPS_TOKEN or --token-stdin");
  }
  if (r.code !== 0) throw new AuthError(`az account get-access-token failed: ${firstLine(r.stderr)}`, "run 'az login' (or 'az login --tenant <tenant>') first");
  let token: unknown;
  try {
    token = (JSON.parse(r.stdout) as { accessToken?: unknown }).accessToken;
  } catch {
    token = undefined;
  }
  if (typeof token !== "string" || !token) throw new UpstreamError("az account get-access-token printed no accessToken", "check 'az account get-access-token --output json' by hand");
  return token;
}
