import type { Command } from "commander";
import type { ContextFactory } from "./context.js";
import { defineActivity } from "./activity.js";
import { defineAssign } from "./assign.js";
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
import { defineSubscribe } from "./subscribe.js";
import { defineSubscriptions } from "./subscriptions.js";
import { defineUnsubscribe } from "./unsubscribe.js";

export type DefineCommand = (program: Command, context: ContextFactory) => void;

/** The whole command tree, in the order `hooksync --help` lists it. */
export const commands: DefineCommand[] = [defineInit, defineImport, defineIssue, defineProject, defineSearch, defineLink, defineAssign, defineResolve, defineActivity, defineReplay, defineSimulate, defineServe, defineDeliveries, defineSubscribe, defineSubscriptions, defineUnsubscribe, defineStatusMap, defineOAuth, defineLogin, defineOutbound, defineNotify, defineDoctor];
