/**
 * The messages the orchestrator (bench/run.ts) and its child processes (servers,
 * clients) exchange over Node's IPC channel, and the child side of that channel.
 * Children are started with an IPC channel only; one without it exits at once.
 */

/** What a server has done since it started, by its own count. */
export interface ServerStats {
  /** Calls whose handler finished OK (for REST: 200 responses sent). */
  okCalls: number;
  /** Stream messages the handlers sent (server streaming, bidi) or received (client streaming). */
  messages: number;
  memory: NodeJS.MemoryUsage;
}

export type ToServer = { type: "stats"; gc: boolean };

export type FromServer =
  | { type: "ready"; port: number }
  | ({ type: "stats" } & ServerStats);

/** Sends a message to the orchestrator; a child whose parent is gone exits. */
export function sendToParent(message: unknown): void {
  if (process.send === undefined) {
    console.error("this bench process must be started by bench/run.ts (no IPC channel)");
    process.exit(2);
  }
  process.send(message);
}

/** The next message from the orchestrator that satisfies `accept`. */
export function nextParentMessage<T>(accept: (message: unknown) => message is T): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (!accept(message)) return;
      process.off("message", onMessage);
      resolve(message);
    };
    process.on("message", onMessage);
  });
}

/** Exits when the orchestrator goes away, so no child outlives a killed run. */
export function exitWithParent(): void {
  process.on("disconnect", () => process.exit(0));
}
