/**
 * Client process: the bare node:http2 client (bare-adapter.ts) under the shared
 * closed-loop driver. Also the load client for ping-pong against every server.
 */
import { connectBare, createBareAdapter } from "./bare-adapter.js";
import { clientMain } from "./driver.js";

await clientMain(async (port) => createBareAdapter(await connectBare(port)));
