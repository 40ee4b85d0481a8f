import { type JiraFake, publicUser } from "./jira.js";
import type { FakeReply, FakeRequest } from "./server.js";

/** An issue as the fake keeps it. */
export interface FakeJiraIssue {
  id: string;
  key: string;
  summary: string;
  description?: string;
  status: { id: string; name: string };
  /** A user name of the fake's users, or null. */
  assignee: string | null;
  updated: string;
}

export interface IssuesState {
  issues: Map<string, FakeJiraIssue>;
}

const jiraError = (status: number, message: string): FakeReply => ({ status, body: { errorMessages: [message], errors: {} } });

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
 * Issues on a started fake Jira, behind its OAuth1 checks: GET /rest/api/2/issue/{key} and
 * GET /rest/api/2/search with hooksync's text JQL, parsed as Jira parses it.
 */
export function installIssues(jira: JiraFake): IssuesState {
  const state: IssuesState = { issues: new Map() };
  const self = () => jira.state.selfUrl;

  const answer = (i: FakeJiraIssue, req: FakeRequest) => {
    const user = i.assignee === null ? null : jira.state.users.find((u) => u.name === i.assignee);
    const all: Record<string, unknown> = {
      summary: i.summary,
      description: i.description ?? null,
      status: {
        self: `${self()}/rest/api/2/status/${i.status.id}`,
        description: "",
        iconUrl: `${self()}/images/icons/statuses/generic.png`,
        name: i.status.name,
        id: i.status.id,
        statusCategory: { self: `${self()}/rest/api/2/statuscategory/2`, id: 2, key: "new", colorName: "blue-gray", name: "To Do" },
      },
      assignee: user ? publicUser(user, self()) : null,
      updated: i.updated,
    };
    const wanted = req.url.searchParams.get("fields");
    const fields = wanted ? Object.fromEntries(wanted.split(",").filter((f) => f in all).map((f) => [f, all[f]])) : all;
    return { expand: "renderedFields,names,schema", id: i.id, self: `${self()}/rest/api/2/issue/${i.id}`, key: i.key, fields };
  };

  jira.route(
    {
      method: "GET",
      path: "/rest/api/2/issue/:key",
      handler: jira.rest((req, p) => {
        const i = state.issues.get(p.key!.toUpperCase());
        return i ? { status: 200, body: answer(i, req) } : jiraError(404, "Issue does not exist or you do not have permission to see it.");
      }),
    },
    {
      method: "GET",
      path: "/rest/api/2/search",
      handler: jira.rest((req) => {
        const q = req.url.searchParams;
        const jql = (q.get("jql") ?? "").trim();
        const m = TEXT_JQL.exec(jql);
        if (!m) return jiraError(400, `Error in the JQL Query: the fake understands only text ~ "..." [ORDER BY ...], got: ${jql}`);
        const literal = jqlString(m[1]!);
        if ("error" in literal) return jiraError(400, literal.error);
        const terms = textTerms(literal.value);
        if (!terms) return jiraError(400, `The text query '${literal.value}' for field 'text' is not valid: probably your query syntax is invalid.`);
        const startAt = Number(q.get("startAt") ?? "0");
        const maxResults = Math.min(Number(q.get("maxResults") ?? "50"), 1000);
        const found = [...state.issues.values()]
          .filter((i) => terms.every((t) => `${i.summary} ${i.description ?? ""}`.toLowerCase().includes(t)))
          .sort((a, b) => b.updated.localeCompare(a.updated));
        const issues = found.slice(startAt, startAt + maxResults).map((i) => answer(i, req));
        return { status: 200, body: { expand: "names,schema", startAt, maxResults, total: found.length, issues } };
      }),
    },
  );
  return state;
}
