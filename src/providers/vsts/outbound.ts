import { UpstreamError, UsageError } from "../../errors.js";
import type { HttpResponse } from "../../http/client.js";
import type { TargetStatuses } from "../types.js";
import type { VstsClient } from "./client.js";

const ASSIGNED_TO = "/fields/System.AssignedTo";
const STATE = "/fields/System.State";


/** Rules 7.1 and 7.4 for Azure DevOps: a local change as a JSON Patch on the linked work item. Each returns what it did. */
export class VstsPusher {
  /** Project name -> id, read once per run: every work item of a project names the same one. */
  private readonly projects = new Map<string, Promise<string>>();

  constructor(private readonly client: VstsClient) {}

  private said(res: HttpResponse): string {
    const detail = this.client.detail(res);
    return detail ? `: ${detail}` : "";
  }

  async assign(id: string, email: string | null): Promise<string> {
    if (email !== null) {
      const res = await this.client.updateWorkItem(id, [{ op: "replace", path: ASSIGNED_TO, value: email }], `assign work item ${id}`, [400]);
      if (res.status === 400) {
        throw new UpstreamError(`Azure DevOps refused to assign work item ${id} to ${email}${this.said(res)}`, "the user must belong to the Azure DevOps organization under that email");
      }
      return `work item ${id} assigned to ${email}`;
    }
    const res = await this.client.updateWorkItem(id, [{ op: "remove", path: ASSIGNED_TO }], `unassign work item ${id}`, [400]);
    if (res.status !== 400) return `work item ${id} unassigned`;
    // Azure DevOps answers 400 to removing a field that is already empty, which is the state wanted.
    const fields = await this.client.workItemFields(id, ["System.AssignedTo"]);
    if (fields["System.AssignedTo"] == null) return `work item ${id} was not assigned`;
    throw new UpstreamError(`Azure DevOps refused to unassign work item ${id}${this.said(res)}`, "-v shows the requests");
  }

  /** Sets the first mapped state, unless the work item is in one of the mapped states already. */
  async setStatus(id: string, targets: TargetStatuses): Promise<string> {
    const fields = await this.client.workItemFields(id, ["System.TeamProject", "System.State"]);
    const name = fields["System.TeamProject"];
    if (typeof name !== "string") throw new UpstreamError(`Azure DevOps answered read work item ${id} without its project`, "check the integration's baseUrl");
    let project = this.projects.get(name);
    if (!project) this.projects.set(name, (project = this.client.projectId(name)));
    const projectId = await project;
    const states = await targets(projectId);
    if (!states?.length) {
      throw new UsageError(`no status mapping for Azure DevOps project ${name} (${projectId})`, `add a statusMappings entry with "externalProject": "${projectId}" and run 'hooksync import'`);
    }
    const current = fields["System.State"];
    if (typeof current === "string" && states.includes(current)) return `work item ${id} is already ${current}`;
    const res = await this.client.updateWorkItem(id, [{ op: "replace", path: STATE, value: states[0] }], `set the state of work item ${id}`, [400]);
    if (res.status === 400) {
      throw new UpstreamError(`Azure DevOps refused to move work item ${id} to ${states[0]}${this.said(res)}`, "the status mapping must name states of the work item's type");
    }
    return `work item ${id} moved to ${states[0]}`;
  }
}
