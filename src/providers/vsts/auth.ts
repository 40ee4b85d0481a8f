/** Azure DevOps' application id: the resource an Entra ID token must be issued for. */
export const AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798";

/**
 * An Azure DevOps credential: an organization-scoped personal access token (HTTP Basic) or a
 * Microsoft Entra ID access token (Bearer), and where it came from, for doctor and the hints.
 */
export interface VstsAuth {
  kind: "pat" | "bearer";
  token: string;
  source: string;
}

/** A PAT goes as HTTP Basic with an empty user name (protocols.md A.1); an Entra ID token as Bearer. */
export const authorization = (auth: Pick<VstsAuth, "kind" | "token">): string =>
  auth.kind === "pat" ? `Basic ${Buffer.from(`:${auth.token}`).toString("base64")}` : `Bearer ${auth.token}`;

/**
 * Both credential forms, since the refused one may be either: a PAT needs the scopes and this
 * organization; an Entra ID token the Azure DevOps resource and a user of the organization.
 */
export const refusedHint = (scopes: string): string =>
  `a personal access token (AZURE_DEVOPS_EXT_PAT, --pat-stdin) needs the scopes ${scopes}, this organization, and not to have expired; ` +
  `an Entra ID token (AZURE_DEVOPS_TOKEN, --token-stdin, --az-token) needs the scope ${AZURE_DEVOPS_RESOURCE}/.default, a user of this organization, and lasts about an hour`;
