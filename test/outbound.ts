/** Old name of a part of the one test world (test/world.ts): kept for tests written before it; import from world.ts. */
export { JIRA_ID, JIRA_PROJECT, JIRA_STATUSES, VSTS_ID, VSTS_PROJECT, outboundWorld } from "./world.js";
export type { OutboundWorld } from "./world.js";
