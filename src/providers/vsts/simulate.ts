import { UsageError } from "../../errors.js";
import { isObject } from "../schema.js";
import { buildFromTemplate, guid, type Randomness, randomBelow, requireTemplate } from "../template.js";
import { SYNCED_EVENT } from "./parse.js";

export interface VstsSimulation {
  eventType: string;
  /** The integration's externalId: the collection id the payload carries. */
  collectionId: string;
  /** The organization URL, as resourceContainers give it: with a trailing slash. */
  orgUrl: string;
  workItem?: string;
  /** `"Display Name <email>"`, as resource version 1.0 renders identities (a bare email also parses). */
  assignee?: string;
  unassign?: boolean;
  /** The new System.State. */
  status?: string;
  fromStatus?: string;
  project?: string;
  /**
   * The newest revision the store keeps for the work item (rule 10.1), null when none: the
   * simulated update is the one after it, as Azure DevOps would number it, so a simulation
   * follows real deliveries and earlier simulations instead of being refused as stale.
   */
  keptRev?: number | null;
}

/** Without a kept revision: a work item's first update is its revision 2 (creating it is 1). */
const FIRST_UPDATE_REV = 2;

/** The fixtures' organization, used when the store names none (`--print` without a store). */
export const VSTS_EXAMPLE = {
  collectionId: "c12d0eb8-e382-443b-9f9c-c52cba5014c2",
  orgUrl: "https://dev.azure.com/fabrikam-fiber-inc/",
  project: "be9b3917-87e6-42a4-a549-2bc06a7a878f",
};

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (isObject(v) ? v : {});

/**
 * A service-hook delivery as Azure DevOps sends it (resource version 1.0), from the template of
 * the event: fresh event id and notification id, this organization's ids and URLs, and the work
 * item changes the flags ask for.
 */
export function simulateVsts(s: VstsSimulation, r: Randomness): Json {
  requireTemplate("vsts", s.eventType);
  const workItemEvent = s.eventType.startsWith("workitem.");
  const itemFlags = { "--work-item": s.workItem, "--assignee": s.assignee, "--unassign": s.unassign, "--status": s.status, "--from-status": s.fromStatus };
  if (!workItemEvent) {
    const given = Object.entries(itemFlags).find(([, v]) => v !== undefined);
    if (given) throw new UsageError(`${given[0]} applies to work item events, not ${s.eventType}`, "drop it, or simulate a workitem.* event");
  } else if (!s.workItem || !/^\d+$/.test(s.workItem)) {
    throw new UsageError(`${s.eventType} needs --work-item <id>, the work item number`, "e.g. --work-item 5");
  }
  if (s.fromStatus !== undefined && (s.eventType !== SYNCED_EVENT || s.status === undefined)) {
    throw new UsageError("--from-status goes with --status on workitem.updated", "add --status <name>");
  }

  const rev = s.keptRev === undefined || s.keptRev === null ? FIRST_UPDATE_REV : s.keptRev + 1;
  const payload = buildFromTemplate("vsts", s.eventType, {
    collectionId: s.collectionId,
    orgUrl: s.orgUrl,
    projectId: s.project ?? VSTS_EXAMPLE.project,
    workItemId: Number(s.workItem ?? 0),
    eventId: guid(r.random),
    notificationId: randomBelow(r.random, 2 ** 31),
    now: r.now.toISOString(),
    rev,
    previousRev: rev - 1,
  });
  if (!workItemEvent) return payload;

  const resource = obj(payload.resource);
  if (s.eventType !== SYNCED_EVENT) {
    // created / commented carry the whole work item, not old/new pairs.
    const fields = obj(resource.fields);
    if (s.assignee !== undefined) fields["System.AssignedTo"] = s.assignee;
    if (s.unassign) delete fields["System.AssignedTo"];
    if (s.status !== undefined) fields["System.State"] = s.status;
    return payload;
  }

  const changed = obj(resource.fields);
  const after = obj(obj(resource.revision).fields);
  const summary: string[] = [];
  if (s.status !== undefined) {
    changed["System.State"] = { ...(s.fromStatus !== undefined ? { oldValue: s.fromStatus } : {}), newValue: s.status };
    changed["Microsoft.VSTS.Common.StateChangeDate"] = { newValue: r.now.toISOString() };
    after["System.State"] = s.status;
    after["Microsoft.VSTS.Common.StateChangeDate"] = r.now.toISOString();
    summary.push(`- New State: ${s.status}`);
  }
  // The previous assignee is unknown here; the engine reads only newValue, and a missing newValue
  // is how Azure DevOps says the field was cleared.
  if (s.assignee !== undefined) {
    changed["System.AssignedTo"] = { newValue: s.assignee };
    after["System.AssignedTo"] = s.assignee;
    summary.push(`- New Assigned to: ${s.assignee.replace(/\s*<[^>]*>\s*$/, "") || s.assignee}`);
  }
  if (s.unassign) {
    changed["System.AssignedTo"] = {};
    delete after["System.AssignedTo"];
    summary.push("- New Assigned to: ");
  }
  const detailed = obj(payload.detailedMessage);
  if (typeof detailed.text === "string") detailed.text += summary.map((l) => `${l}\r\n`).join("");
  return payload;
}
