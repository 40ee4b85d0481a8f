import { withoutTrailingSlash } from "../../url.js";

/**
 * Where work item search is served: Azure DevOps Services from a host of its own
 * (almsearch.dev.azure.com/{organization}, {organization}.almsearch.visualstudio.com), Azure
 * DevOps Server from the collection URL itself.
 */
export function searchBaseUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  if (u.hostname === "dev.azure.com") u.hostname = "almsearch.dev.azure.com";
  else if (/^[^.]+\.visualstudio\.com$/.test(u.hostname)) u.hostname = u.hostname.replace(/\.visualstudio\.com$/, ".almsearch.visualstudio.com");
  return withoutTrailingSlash(u.href);
}
