// The writer's thread: its own connection to the store, driven by the HTTP front's messages.
import { parentPort, workerData } from "node:worker_threads";
import type { HooksyncError } from "../errors.js";
import { openStore } from "../store/store.js";
import { WalSync } from "../store/wal-sync.js";
import { type FromWriter, type ToWriter, Writer } from "./writer.js";

const port = parentPort!;
const post = (m: FromWriter) => port.postMessage(m);
const { path, enrich } = workerData as { path: string; enrich: boolean };

try {
  const store = openStore(path);
  const wal = WalSync.open(store);
  const writer = new Writer(store, wal, {
    enrich,
    post,
    onStopped: () => {
      wal.close();
      store.close();
      post({ kind: "stopped" });
      port.close();
    },
  });
  port.on("message", (m: ToWriter) => writer.receive(m));
  post({ kind: "ready" });
} catch (err) {
  const e = err as HooksyncError;
  post({ kind: "fatal", message: e.message, ...(e.hint ? { hint: e.hint } : {}) });
  port.close();
}
