/** Old name of a part of the one test world (test/world.ts): kept for tests written before it; import from world.ts. */
export { JIRA_ID, JIRA_SECRET, NOW, VSTS_ID, VSTS_SECRET, expectNoSecrets, issueFakes, jiraWorld, trackerStore } from "./world.js";
export type { IssueFakes, JiraWorld, TestDepsOptions } from "./world.js";
