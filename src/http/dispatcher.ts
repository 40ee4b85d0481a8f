import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { type Dispatcher, EnvHttpProxyAgent } from "undici";
import { UsageError } from "../errors.js";

export interface DispatcherOptions {
  /** A PEM bundle to trust besides the system's (a self-signed Jira Server). */
  caFile?: string;
  /** Skip certificate checks; only ever from a flag the user typed by name. */
  insecure?: boolean;
}

/**
 * The production dispatcher: direct or through HTTPS_PROXY/HTTP_PROXY, minus NO_PROXY hosts,
 * read from the injected environment.
 */
export function createDispatcher(opts: DispatcherOptions, env: Record<string, string | undefined>): Dispatcher {
  const tls = { ...(opts.caFile ? { ca: trustedCas(opts.caFile, env) } : {}), ...(opts.insecure ? { rejectUnauthorized: false } : {}) };
  return new EnvHttpProxyAgent({
    httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? "",
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? "",
    noProxy: env.no_proxy ?? env.NO_PROXY ?? "",
    connect: tls,
    requestTls: tls,
  });
}

/**
 * Passing `ca` replaces Node's trust store, NODE_EXTRA_CA_CERTS included, so the system roots and
 * that file are added back beside --ca-file.
 */
function trustedCas(caFile: string, env: Record<string, string | undefined>): string[] {
  const read = (path: string, flag: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, "give a PEM file of CA certificates");
    }
  };
  const extra = env.NODE_EXTRA_CA_CERTS ? [read(env.NODE_EXTRA_CA_CERTS, "NODE_EXTRA_CA_CERTS")] : [];
  return [...rootCertificates, ...extra, read(caFile, "--ca-file")];
}
