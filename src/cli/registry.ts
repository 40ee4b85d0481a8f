import type { Command } from "commander";
import type { ContextFactory } from "./context.js";
import { defineActivity } from "./activity.js";
import { defineAssign } from "./assign.js";
import { defineCompletion } from "./completion.js";
import { defineDeliveries } from "./deliveries.js";
import { defineDoctor } from "./doctor.js";
import { defineImport } from "./import.js";
import { defineInit } from "./init.js";
import { defineIssue } from "./issue.js";
import { defineLink } from "./link.js";
import { defineLogin } from "./login.js";
import { defineNotify } from "./notify.js";
import { defineOAuth } from "./oauth.js";
import { defineOutbound } from "./outbound.js";
import { defineProject } from "./project.js";
import { defineReplay } from "./replay.js";
import { defineResolve } from "./resolve.js";
import { defineSearch } from "./search.js";
import { defineServe } from "./serve.js";
import { defineSimulate } from "./simulate.js";
import { defineStatusMap } from "./status-map.js";
import { defineStore } from "./store.js";
import { defineSubscribe } from "./subscribe.js";
import { defineSubscriptions } from "./subscriptions.js";
import { defineUnsubscribe } from "./unsubscribe.js";

export type DefineCommand = (program: Command, context: ContextFactory) => void;

/** The whole command tree, in the order `hooksync --help` lists it. */
export const commands: DefineCommand[] = [defineInit, defineImport, defineIssue, defineProject, defineSearch, defineLink, defineAssign, defineResolve, defineActivity, defineReplay, defineSimulate, defineServe, defineDeliveries, defineSubscribe, defineSubscriptions, defineUnsubscribe, defineStatusMap, defineOAuth, defineLogin, defineOutbound, defineNotify, defineStore, defineDoctor, defineCompletion];

/**
 * The commands that only read the store: they refuse to migrate an older store unless --migrate is
 * given, as an older hooksync cannot open it afterwards.
 */
const readOnlyCommands = new Set([
  "issue list",
  "project list",
  "activity",
  "deliveries",
  "outbound list",
  "notify status",
  "subscriptions vsts",
  "subscriptions jira",
  "search vsts",
  "search jira",
  "doctor",
]);

export const readsOnly = (path: string): boolean => readOnlyCommands.has(path);

/** "outbound list" for the command run as `hooksync outbound list`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}
