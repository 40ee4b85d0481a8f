import { type JiraFake, publicUser } from "./jira.js";
import type { FakeReply, FakeRequest } from "./server.js";

/** An issue as the fake keeps it. */
export interface FakeJiraIssue {
  key: string;
  projectId: string;
  summary: string;
  description?: string;
  /** A status id of the workflow. */
  status: string;
  /** A user name of the fake's users, null when unassigned. */
  assignee: string | null;
  updated: string;
}

/** An issue as tests write it: without a summary, its key; no assignee; in the project given at install. */
export type IssueSpec = Pick<FakeJiraIssue, "key" | "status"> & Partial<FakeJiraIssue>;

export interface IssuesState {
  issues: Map<string, FakeJiraIssue>;
  /** The workflow's statuses, id -> name; every one reachable from every other unless unreachable. */
  statuses: Map<string, string>;
  unreachable: Set<string>;
  /** User names without the Assignable User permission. */
  unassignable: Set<string>;
  /** Adds (or replaces) issues. */
  put(...specs: IssueSpec[]): void;
}

const error = (status: number, messages: string[], errors: Record<string, string> = {}): FakeReply => ({ status, body: { errorMessages: messages, errors } });
const isJson = (req: FakeRequest) => (req.headers["content-type"] ?? "").startsWith("application/json");
const unsupported: FakeReply = { status: 415, headers: { "content-type": "text/html" }, body: "<html><body>Unsupported Media Type</body></html>" };

/** The escapes a JQL string allows; any other backslash is Jira's "illegal JQL escape sequence". */
const JQL_ESCAPES: Record<string, string> = { "'": "'", '"': '"', t: "\t", n: "\n", r: "\r", "\\": "\\", " ": " " };
/** Characters the text search reserves (Jira's "Search syntax for text fields"). */
const RESERVED = new Set([..."+-&|!(){}[]^~*?:\\"]);
/** hooksync's JQL, and only that: a text search, optionally ordered. */
const TEXT_JQL = /^text\s*~\s*"((?:[^"\\]|\\.)*)"(?:\s+ORDER\s+BY\s+(?:updated|created|key)\s+(?:ASC|DESC))?$/i;

/** The value of a JQL string literal, or the message Jira gives for a bad escape. */
function jqlString(raw: string): { value: string } | { error: string } {
  let value = "";
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== "\\") {
      value += raw[i];
      continue;
    }
    const next = raw[++i] ?? "";
    if (next === "u" && /^[0-9a-f]{4}$/i.test(raw.slice(i + 1, i + 5))) {
      value += String.fromCharCode(parseInt(raw.slice(i + 1, i + 5), 16));
      i += 4;
    } else if (next in JQL_ESCAPES) value += JQL_ESCAPES[next];
    else return { error: `Error in the JQL Query: '\\${next}' is an illegal JQL escape sequence. The valid escape sequences are \\', \\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX.` };
  }
  return { value };
}

/**
 * The terms of a text query (words, and "phrases" between quotes), or undefined when it does not
 * parse. Stricter than Jira on purpose: any reserved character not escaped is refused, so a client
 * that forgets to escape one fails here instead of searching for something else.
 */
function textTerms(query: string): string[] | undefined {
  const terms: string[] = [];
  let term = "";
  let phrase = false;
  const end = () => {
    if (term.trim()) terms.push(term.trim().toLowerCase());
    term = "";
  };
  for (let i = 0; i < query.length; i++) {
    const c = query[i]!;
    if (c === "\\") {
      if (i + 1 >= query.length) return undefined;
      term += query[++i];
    } else if (c === '"') {
      end();
      phrase = !phrase;
    } else if (c === " " && !phrase) end();
    else if (RESERVED.has(c)) return undefined;
    else term += c;
  }
  if (phrase) return undefined;
  end();
  return terms;
}

/**
 * Issues on a started fake Jira Server, behind its OAuth1 checks: GET /rest/api/2/issue/{key},
 * GET /rest/api/2/search with hooksync's text JQL (parsed as Jira parses it), and what outbound
 * sync uses (reference-sentry.md 8, 10.3, 10.4): assignable-user search (a prefix match on user
 * name, display name and email, scoped to an issue), assignee PUT, the workflow's transitions
 * from the current status, and a transition POST that refuses a move the workflow does not offer.
 */
export function installIssues(jira: JiraFake, o: { projectId: string; statuses: Record<string, string> }): IssuesState {
  const state: IssuesState = {
    issues: new Map(),
    statuses: new Map(Object.entries(o.statuses)),
    unreachable: new Set(),
    unassignable: new Set(),
    put(...specs) {
      for (const s of specs) {
        state.issues.set(s.key, { projectId: o.projectId, summary: s.key, assignee: null, updated: "2026-01-01T00:00:00.000+0000", ...s });
      }
    },
  };
  const ids = [...state.statuses.keys()];
  const self = () => jira.state.selfUrl;
  const transitionId = (statusId: string) => String(11 + 10 * ids.indexOf(statusId));
  const status = (id: string) => ({
    self: `${self()}/rest/api/2/status/${id}`,
    description: "",
    iconUrl: `${self()}/images/icons/statuses/generic.png`,
    name: state.statuses.get(id),
    id,
    statusCategory: { self: `${self()}/rest/api/2/statuscategory/2`, id: 2, key: "new", colorName: "blue-gray", name: "To Do" },
  });
  const user = (name: string) => jira.state.users.find((u) => u.name === name);
  const transitions = (i: FakeJiraIssue) =>
    ids.filter((id) => id !== i.status && !state.unreachable.has(id)).map((id) => ({ id: transitionId(id), name: `To ${state.statuses.get(id)}`, to: status(id) }));
  const idOf = (i: FakeJiraIssue) => String(10000 + Number(i.key.split("-")[1]));

  const answer = (i: FakeJiraIssue, req: FakeRequest) => {
    const assignee = i.assignee === null ? undefined : user(i.assignee);
    const all: Record<string, unknown> = {
      summary: i.summary,
      description: i.description ?? null,
      status: status(i.status),
      project: { id: i.projectId, key: i.key.split("-")[0] },
      assignee: assignee ? publicUser(assignee, self()) : null,
      updated: i.updated,
    };
    const wanted = req.url.searchParams.get("fields");
    const fields = wanted ? Object.fromEntries(wanted.split(",").filter((f) => f in all).map((f) => [f, all[f]])) : all;
    return { expand: "renderedFields,names,schema", id: idOf(i), self: `${self()}/rest/api/2/issue/${idOf(i)}`, key: i.key, fields };
  };
  /** A route on one issue: 404 when there is none. */
  const onIssue = (handler: (req: FakeRequest, i: FakeJiraIssue) => FakeReply) =>
    jira.rest((req, p) => {
      const i = state.issues.get(p.key!.toUpperCase());
      return i ? handler(req, i) : error(404, ["Issue Does Not Exist"]);
    });

  jira.route(
    { method: "GET", path: "/rest/api/2/issue/:key", handler: onIssue((req, i) => ({ status: 200, body: answer(i, req) })) },
    {
      method: "GET",
      path: "/rest/api/2/search",
      handler: jira.rest((req) => {
        const q = req.url.searchParams;
        const jql = (q.get("jql") ?? "").trim();
        const m = TEXT_JQL.exec(jql);
        if (!m) return error(400, [`Error in the JQL Query: the fake understands only text ~ "..." [ORDER BY ...], got: ${jql}`]);
        const literal = jqlString(m[1]!);
        if ("error" in literal) return error(400, [literal.error]);
        const terms = textTerms(literal.value);
        if (!terms) return error(400, [`The text query '${literal.value}' for field 'text' is not valid: probably your query syntax is invalid.`]);
        const startAt = Number(q.get("startAt") ?? "0");
        const maxResults = Math.min(Number(q.get("maxResults") ?? "50"), 1000);
        const found = [...state.issues.values()]
          .filter((i) => terms.every((t) => `${i.summary} ${i.description ?? ""}`.toLowerCase().includes(t)))
          .sort((a, b) => b.updated.localeCompare(a.updated));
        const issues = found.slice(startAt, startAt + maxResults).map((i) => answer(i, req));
        return { status: 200, body: { expand: "names,schema", startAt, maxResults, total: found.length, issues } };
      }),
    },
    {
      method: "GET",
      path: "/rest/api/2/user/assignable/search",
      handler: jira.rest((req) => {
        const q = req.url.searchParams;
        const key = q.get("issueKey");
        if (!key && !q.get("project")) return error(400, ["The user search requires an issueKey or a project parameter."]);
        if (key && !state.issues.has(key)) return error(404, ["Issue Does Not Exist"]);
        const query = (q.get("username") ?? "").toLowerCase();
        const found = jira.state.users.filter(
          (u) => !state.unassignable.has(u.name) && [u.name, u.displayName, u.emailAddress].some((f) => f.toLowerCase().startsWith(query)),
        );
        return { status: 200, body: found.map((u) => publicUser(u, self())) };
      }),
    },
    {
      method: "PUT",
      path: "/rest/api/2/issue/:key/assignee",
      handler: onIssue((req, i) => {
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
      handler: onIssue((_req, i) => ({ status: 200, body: { expand: "transitions", transitions: transitions(i) } })),
    },
    {
      method: "POST",
      path: "/rest/api/2/issue/:key/transitions",
      handler: onIssue((req, i) => {
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
