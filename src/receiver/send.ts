import { UpstreamError, UsageError } from "../errors.js";
import { signJwt } from "../providers/jira/jwt.js";
import type { Headers, ProviderName } from "../providers/types.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import { withoutTrailingSlash } from "../url.js";
import { JIRA_ROUTE, REDACTED, SIGNATURE_HEADER, jiraSignature } from "./verify.js";

export interface SendResult {
  /** Where it went, with the Jira token redacted. */
  url: string;
  status: number;
  /** The receiver's JSON answer, or its text when it is not JSON. */
  answer: unknown;
}

const TIMEOUT_MS = 30_000;

/**
 * POSTs a body to a hooksync receiver the way the tracker would: VSTS with the integration's
 * secret in the `shared-secret` header, Jira with a freshly signed JWT in the URL (Jira 9) and
 * the body's X-Hub-Signature (Jira 10): the receiver checks whichever the integration is verified by.
 */
export async function sendToReceiver(
  base: string,
  provider: ProviderName,
  integration: Pick<IntegrationRow, "externalId" | "webhookSecret">,
  body: Buffer,
  extraHeaders: Headers = {},
): Promise<SendResult> {
  let root: URL;
  try {
    root = new URL(base);
  } catch {
    throw new UsageError(`--send ${base} is not a URL`, "e.g. --send http://127.0.0.1:8080");
  }
  if (root.protocol !== "http:" && root.protocol !== "https:") {
    throw new UsageError(`--send ${base} is not an http(s) URL`, "e.g. --send http://127.0.0.1:8080");
  }
  const prefix = withoutTrailingSlash(root.href.replace(/[?#].*$/, ""));
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8", ...extraHeaders };
  let path: string;
  if (provider === "vsts") {
    path = "/hooks/vsts";
    headers["shared-secret"] = integration.webhookSecret;
  } else {
    // The same claims `subscribe jira` registers: a token without exp, so clocks need not agree.
    path = JIRA_ROUTE + signJwt({ id: integration.externalId }, integration.webhookSecret);
    headers[SIGNATURE_HEADER.toLowerCase()] = jiraSignature(body, integration.webhookSecret);
  }
  const shown = prefix + (provider === "vsts" ? path : JIRA_ROUTE + REDACTED);

  let res: Response;
  try {
    // No redirects: the secret header would follow them to wherever they point.
    res = await fetch(prefix + path, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === "TimeoutError") throw new UpstreamError(`${shown} did not answer within ${TIMEOUT_MS / 1000} s`, "is the receiver stuck?");
    throw new UpstreamError(`cannot reach ${shown}: ${e.cause?.code ?? e.cause?.message ?? e.message}`, "is 'hooksync serve' running there?");
  }
  const text = await res.text();
  let answer: unknown = text;
  try {
    answer = JSON.parse(text);
  } catch {
    // Not every receiver (or proxy in front of one) answers JSON; keep its text.
  }
  return { url: shown, status: res.status, answer };
}
