import { type ImportFile, jsonPath } from "./import-schema.js";

/** Reports problems by JSON path while the transaction runs; any problem rolls all of it back. */
export class Problems {
  list: string[] = [];
  add(path: (string | number)[], message: string): void {
    this.list.push(`${jsonPath(path)}: ${message}`);
  }
}

/** The same key twice in one list of the file (compared as the store would: emails without case). */
export function duplicates(data: ImportFile, problems: Problems): void {
  const check = <T>(kind: keyof ImportFile, rows: T[] | undefined, key: (r: T) => string, what: string) => {
    const seen = new Map<string, number>();
    rows?.forEach((r, i) => {
      const k = key(r);
      const first = seen.get(k);
      if (first !== undefined) problems.add([kind, i], `duplicate ${what} ${JSON.stringify(k)} (first at ${kind}[${first}])`);
      else seen.set(k, i);
    });
  };
  check("organizations", data.organizations, (r) => r.slug, "organization");
  check("projects", data.projects, (r) => r.slug, "project");
  check("users", data.users, (r) => r.email.toLowerCase(), "user");
  check("integrations", data.integrations, (r) => r.externalId, "integration");
  check("issues", data.issues, (r) => r.id, "issue id");
  check("members", data.members, (r) => `${r.user.toLowerCase()} in ${r.organization}`, "member");
  check("sync", data.sync, (r) => `${r.organization}/${r.integration}`, "sync setting");
  check("statusMappings", data.statusMappings, (r) => `${r.integration}/${r.externalProject}`, "status mapping");
}
