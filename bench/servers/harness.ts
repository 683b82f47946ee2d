/**
 * What every bench server shares: counters of the work it finished OK, the IPC
 * replies to the orchestrator (ready, stats), and exit on SIGTERM or when the
 * orchestrator goes away. Servers listen on 127.0.0.1 only.
 */
import { exitWithParent, sendToParent, type FromServer, type ToServer } from "../lib/ipc.js";

/** Incremented by the handlers: the server's own count, compared with the load generator's. */
export const counters = { okCalls: 0, messages: 0 };

function isToServer(message: unknown): message is ToServer {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === "stats";
}

/** Starts the server with `listen` (resolving its port), then answers the orchestrator until killed. */
export async function runBenchServer(listen: () => Promise<number>): Promise<void> {
  exitWithParent();
  process.on("SIGTERM", () => process.exit(0));
  const port = await listen();
  process.on("message", (message: unknown) => {
    if (!isToServer(message)) return;
    const gc = (globalThis as { gc?: () => void }).gc;
    // Twice: the first pass can leave garbage that finalizers only released then.
    if (message.gc && gc !== undefined) {
      gc();
      gc();
    }
    const reply: FromServer = { type: "stats", okCalls: counters.okCalls, messages: counters.messages, memory: process.memoryUsage() };
    sendToParent(reply);
  });
  const ready: FromServer = { type: "ready", port };
  sendToParent(ready);
}
