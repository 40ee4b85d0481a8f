import { type JiraFake, publicUser } from "./jira.js";
import type { FakeReply, FakeRequest } from "./server.js";

export interface FakeJiraIssue {
  key: string;
  projectId: string;
  /** A status id of the workflow. */
  status: string;
  /** A user name, null when unassigned. */
  assignee: string | null;
}

export interface JiraIssuesState {
  issues: Map<string, FakeJiraIssue>;
  /** The workflow's statuses, id -> name; every one reachable from every other unless unreachable. */
  statuses: Map<string, string>;
  unreachable: Set<string>;
  /** User names without the Assignable User permission. */
  unassignable: Set<string>;
}

const error = (status: number, messages: string[], errors: Record<string, string> = {}): FakeReply => ({ status, body: { errorMessages: messages, errors } });

const isJson = (req: FakeRequest) => (req.headers["content-type"] ?? "").startsWith("application/json");
const unsupported: FakeReply = { status: 415, headers: { "content-type": "text/html" }, body: "<html><body>Unsupported Media Type</body></html>" };

/**
 * Jira Server's issue REST used by outbound sync (reference-sentry.md 8, 10.3, 10.4), behind the
 * fake's OAuth1 checks: assignable-user search (a prefix match on user name, display name and
 * email, scoped to an issue), assignee PUT, the workflow's transitions from the current status,
 * and a transition POST that refuses a move the workflow does not offer.
 */
export function installJiraIssues(jira: JiraFake, o: { issues: FakeJiraIssue[]; statuses: Record<string, string> }): JiraIssuesState {
  const state: JiraIssuesState = {
    issues: new Map(o.issues.map((i) => [i.key, { ...i }])),
    statuses: new Map(Object.entries(o.statuses)),
    unreachable: new Set(),
    unassignable: new Set(),
  };
  const ids = [...state.statuses.keys()];
  const transitionId = (statusId: string) => String(11 + 10 * ids.indexOf(statusId));
  const status = (id: string) => ({ id, name: state.statuses.get(id), self: `${jira.url}/rest/api/2/status/${id}` });
  const missing = () => error(404, ["Issue Does Not Exist"]);
  const user = (name: string) => jira.state.users.find((u) => u.name === name);
  const transitions = (i: FakeJiraIssue) =>
    ids.filter((id) => id !== i.status && !state.unreachable.has(id)).map((id) => ({ id: transitionId(id), name: `To ${state.statuses.get(id)}`, to: status(id) }));

  jira.route(
    {
      method: "GET",
      path: "/rest/api/2/issue/:key",
      handler: jira.rest((req, p) => {
        const i = state.issues.get(p.key!);
        if (!i) return missing();
        const all = {
          status: status(i.status),
          project: { id: i.projectId, key: i.key.split("-")[0] },
          assignee: i.assignee ? publicUser(user(i.assignee)!, jira.url) : null,
        };
        const wanted = req.url.searchParams.get("fields")?.split(",");
        const fields = Object.fromEntries(Object.entries(all).filter(([k]) => !wanted || wanted.includes(k)));
        return { status: 200, body: { id: "10" + i.key.split("-")[1], key: i.key, self: `${jira.url}/rest/api/2/issue/${i.key}`, fields } };
      }),
    },
    {
      method: "GET",
      path: "/rest/api/2/user/assignable/search",
      handler: jira.rest((req) => {
        const q = req.url.searchParams;
        const key = q.get("issueKey");
        if (!key && !q.get("project")) return error(400, ["The user search requires an issueKey or a project parameter."]);
        if (key && !state.issues.has(key)) return missing();
        const query = (q.get("username") ?? "").toLowerCase();
        const found = jira.state.users.filter(
          (u) => !state.unassignable.has(u.name) && [u.name, u.displayName, u.emailAddress].some((f) => f.toLowerCase().startsWith(query)),
        );
        return { status: 200, body: found.map((u) => publicUser(u, jira.url)) };
      }),
    },
    {
      method: "PUT",
      path: "/rest/api/2/issue/:key/assignee",
      handler: jira.rest((req, p) => {
        const i = state.issues.get(p.key!);
        if (!i) return missing();
        if (!isJson(req)) return unsupported;
        const { name } = req.json<{ name?: unknown }>();
        if (name === null) {
          i.assignee = null;
          return { status: 204 };
        }
        if (typeof name !== "string" || !user(name)) return error(400, [], { assignee: `User '${String(name)}' does not exist.` });
        if (state.unassignable.has(name)) return error(400, [], { assignee: `User '${name}' cannot be assigned issues.` });
        i.assignee = name;
        return { status: 204 };
      }),
    },
    {
      method: "GET",
      path: "/rest/api/2/issue/:key/transitions",
      handler: jira.rest((_req, p) => {
        const i = state.issues.get(p.key!);
        return i ? { status: 200, body: { expand: "transitions", transitions: transitions(i) } } : missing();
      }),
    },
    {
      method: "POST",
      path: "/rest/api/2/issue/:key/transitions",
      handler: jira.rest((req, p) => {
        const i = state.issues.get(p.key!);
        if (!i) return missing();
        if (!isJson(req)) return unsupported;
        const id = req.json<{ transition?: { id?: unknown } }>().transition?.id;
        const t = transitions(i).find((x) => x.id === id);
        if (!t) {
          return error(400, [
            `It seems that you have tried to perform a workflow operation (${String(id)}) that is not valid for the current state of this issue (${i.key}). The likely cause is that somebody has changed the issue recently, please look at the issue history for details.`,
          ]);
        }
        i.status = t.to.id;
        return { status: 204 };
      }),
    },
  );
  return state;
}
