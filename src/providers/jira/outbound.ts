import { UpstreamError, UsageError } from "../../errors.js";
import type { TargetStatuses } from "../types.js";
import type { JiraClient } from "./client.js";

/** Rules 7.1 and 7.4 for Jira Server: assign by user name, move by transition. Each returns what it did. */
export class JiraPusher {
  constructor(private readonly client: JiraClient) {}

  /**
   * Jira Server may hide email addresses, so a search that finds exactly one user takes it (as the
   * reference does); among several, the one whose email matches.
   */
  async assign(key: string, email: string | null): Promise<string> {
    if (email === null) {
      await this.client.assign(key, null);
      return `${key} unassigned`;
    }
    const users = await this.client.assignableUsers(key, email);
    const user = users.length === 1 ? users[0] : users.find((u) => u.emailAddress?.toLowerCase() === email.toLowerCase());
    if (!user?.name) {
      throw new UpstreamError(
        `Jira has ${users.length === 0 ? "no" : "no single"} user with email ${email} who may be assigned ${key}`,
        "the user needs a Jira account with that email and the Assignable User permission in the issue's project",
      );
    }
    await this.client.assign(key, user.name);
    return `${key} assigned to ${user.name}`;
  }

  /**
   * Moves the issue by the transition that reaches the first mapped status it can reach. The
   * current status is checked first: a transition POST is not repeated, and already there is done.
   */
  async setStatus(key: string, targets: TargetStatuses): Promise<string> {
    const { status, projectId } = await this.client.statusOf(key);
    const wanted = await targets(projectId);
    if (!wanted?.length) {
      throw new UsageError(`no status mapping for Jira project ${projectId}`, `add a statusMappings entry with "externalProject": "${projectId}" and run 'hooksync import'`);
    }
    const shown = (s: { id: string; name?: string | undefined }) => (s.name ? `${s.name} (${s.id})` : s.id);
    if (wanted.includes(status.id)) return `${key} is already ${shown(status)}`;
    const transitions = await this.client.transitions(key);
    for (const target of wanted) {
      const t = transitions.find((x) => x.to?.id === target);
      if (!t) continue;
      await this.client.transition(key, t.id);
      return `${key} moved to ${shown(t.to!)}${t.name ? ` by "${t.name}"` : ""}`;
    }
    throw new UpstreamError(
      `Jira offers no transition from ${shown(status)} to ${wanted.join(" or ")} for ${key}`,
      "the issue's workflow must allow the move; check the status mapping names the right status ids",
    );
  }
}
