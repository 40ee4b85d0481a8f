import type { Sender } from "./send.js";
import type { Store } from "../store/store.js";
import type { VstsTokenFlags } from "../trackers/credentials.js";
import { type HttpFlags, type SessionHost, withHttp } from "../trackers/sessions.js";

/** A command that pushes takes the Azure DevOps credential the way subscribe does (--pat-stdin, --token-stdin, --az-token). */
export interface PushFlags extends HttpFlags, VstsTokenFlags {}

/** Runs fn as a sender of its own, with the command's HTTP options and credentials (the token asked for once). */
export async function withSender<T>(host: SessionHost, store: Store, flags: PushFlags, fn: (sender: Sender) => Promise<T>): Promise<T> {
  const { Senders } = await import("./senders.js");
  const { senderId } = await import("./send.js");
  const { commandCredentials } = await import("../trackers/credentials.js");
  const credentials = commandCredentials(host.deps, flags.patStdin, { tokenStdin: flags.tokenStdin, azToken: flags.azToken });
  return withHttp(host, flags, async (base) => fn({ id: senderId(host.deps), store, senders: await Senders.open(store, base, credentials, host.deps), clock: host.deps }));
}
