import { type ExternalIssue, MAX_SEARCH_RESULTS } from "../types.js";
import type { JiraClient, JiraIssue, JiraUser } from "./client.js";

/** A project key (a letter, then letters, digits or _), a dash, a number. */
const ISSUE_KEY = /^[A-Z][A-Z0-9_]+-\d+$/;

/** The issue key in text, upper-cased as Jira writes it. */
export function issueKey(text: string): string | undefined {
  const key = text.trim().toUpperCase();
  return ISSUE_KEY.test(key) ? key : undefined;
}

/**
 * Characters the text search (Lucene's query syntax) reserves, as Jira's "Search syntax for text
 * fields" lists them. Jira wants each one preceded by \\ inside the quoted JQL string: one
 * backslash for the JQL string, one for the search. `"` stays out: paired quotes make a phrase.
 */
const RESERVED = /[+\-&|!(){}[\]^~*?\\:]/g;

/** JQL for the issues whose text fields hold the words of text (or its "phrases"), latest first. */
export function textJql(text: string): string {
  const words = text.replace(/\s+/g, " ").trim();
  let search = words.replace(RESERVED, (c) => `\\${c}`);
  // An unpaired quote would leave a phrase open, which Jira refuses as invalid syntax.
  if ((search.match(/"/g)?.length ?? 0) % 2 === 1) search = search.replaceAll('"', '\\"');
  return `text ~ "${search.replace(/[\\"]/g, (c) => `\\${c}`)}" ORDER BY updated DESC`;
}

/** The email when Jira shows it (users may hide it), else the display name. */
const person = (u: JiraUser | null | undefined): string | null => (u ? u.emailAddress || u.displayName || u.name || null : null);

export const fromIssue = (i: JiraIssue, baseUrl: string): ExternalIssue => ({
  key: i.key,
  title: i.fields?.summary ?? "",
  status: i.fields?.status?.name ?? "",
  assignee: person(i.fields?.assignee),
  url: `${baseUrl}/browse/${i.key}`,
});

export async function jiraIssue(client: JiraClient, key: string): Promise<ExternalIssue | undefined> {
  const found = await client.issue(key);
  return found && fromIssue(found, client.baseUrl);
}

/** An issue key is the issue itself; other text is a text search. */
export async function findJiraIssues(client: JiraClient, query: string): Promise<ExternalIssue[]> {
  const key = issueKey(query);
  if (key) {
    const found = await jiraIssue(client, key);
    return found ? [found] : [];
  }
  return (await client.search(textJql(query), MAX_SEARCH_RESULTS)).map((i) => fromIssue(i, client.baseUrl));
}
