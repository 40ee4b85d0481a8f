import type { Command } from "commander";
import type { ContextFactory } from "./context.js";
import { defineActivity } from "./activity.js";
import { defineDeliveries } from "./deliveries.js";
import { defineDoctor } from "./doctor.js";
import { defineImport } from "./import.js";
import { defineInit } from "./init.js";
import { defineIssue } from "./issue.js";
import { defineOAuth } from "./oauth.js";
import { defineReplay } from "./replay.js";
import { defineServe } from "./serve.js";
import { defineSimulate } from "./simulate.js";
import { defineSubscribe } from "./subscribe.js";
import { defineSubscriptions } from "./subscriptions.js";
import { defineUnsubscribe } from "./unsubscribe.js";

export type DefineCommand = (program: Command, context: ContextFactory) => void;

/** The whole command tree, in the order `hooksync --help` lists it. */
export const commands: DefineCommand[] = [defineInit, defineImport, defineIssue, defineActivity, defineReplay, defineSimulate, defineServe, defineDeliveries, defineSubscribe, defineSubscriptions, defineUnsubscribe, defineOAuth, defineDoctor];
