import { StoreError } from "../errors.js";
import { latestVersion } from "./migrations.js";

export interface UpgradeOptions {
  /** Refuse a place with no hooksync schema instead of making a store there: only `init` creates one. */
  mustExist?: boolean;
  /** false: refuse a store at an older schema rather than migrate it (a read-only command without --migrate). */
  migrate?: boolean;
  /** Where a migration is announced (stderr in the CLI). */
  log?: (line: string) => void;
}

/** What differs between the backends: how their store is named, and how a user keeps a copy of it. */
export interface UpgradeTerms {
  /** The store as the user named it: a path, or a URL without its password. */
  location: string;
  /** "path" or "URL": what to fix when the store is not where it was said to be. */
  named: string;
  /** How the store before the migration is kept, said in the refusal's hint before "older hooksync versions cannot open the store afterwards". */
  keep: string;
  /** The same, said as the migration is announced. */
  kept: string;
}

/**
 * The decision every backend makes on opening its store at version: true when migrations are to
 * run (a new store, or an older one, whose migration is announced), false when it is at the
 * latest schema; a StoreError when it must not be touched (no schema where one must be, a newer
 * schema, an older one for a read-only command).
 */
export function needsUpgrade(version: number, opts: UpgradeOptions, t: UpgradeTerms): boolean {
  if (version === latestVersion) return false;
  if (version === 0) {
    if (opts.mustExist) {
      throw new StoreError(`no hooksync schema in ${t.location}`, `'hooksync init' creates one there, given the same --db / HOOKSYNC_DB; or fix the ${t.named}`);
    }
    return true;
  }
  if (version > latestVersion) throw newerStore(version);
  if (opts.migrate === false) {
    throw new StoreError(
      `the store ${t.location} is at schema ${version} and this hooksync needs ${latestVersion}; a read-only command does not migrate it`,
      `add --migrate, or run 'hooksync init'; ${t.keep}older hooksync versions cannot open the store afterwards`,
    );
  }
  opts.log?.(`hooksync: migrating the store ${t.location} from schema ${version} to ${latestVersion} (${t.kept})`);
  return true;
}

export const newerStore = (version: number): StoreError =>
  new StoreError(`the store is at schema version ${version}, newer than this hooksync knows (${latestVersion})`, "upgrade hooksync");
