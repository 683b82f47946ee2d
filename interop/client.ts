/**
 * The grpc-ts interop client: `npm run interop:client -- --server_host=H --server_port=P
 * --test_case=all|<case>[,<case>…] [--use_tls [--use_test_ca | --ca_file=F]
 * [--server_host_override=N]] [--soak_…]`. Prints `PASS <case>` or `FAIL <case>: <reason>`
 * per case and exits with 1 when one failed (2 for bad flags). A case still running after
 * its time limit fails, and the process exits even if that case left calls open.
 */
import { createChannel, createClient, credentials, type Channel, type ChannelOptions } from "../src/index.js";
// Not in the public API, but ChannelOptions.subchannelPool takes one: see openChannel.
import { SubchannelPool } from "../src/client/subchannel.js";
import { selectCases, type InteropCaseName } from "./case-names.js";
import { interopCases } from "./cases.js";
import { clientFlagSpec, serverTarget, soakSettings, trustedCa, type ClientFlags } from "./client-flags.js";
import { FlagError, describeFlags, parseFlagsOrExit } from "./flags.js";
import { TestService, UnimplementedService } from "./gen/grpc/testing/test_pb.js";
import { failureReason, formatCaseResult, type CaseOutcome } from "./results.js";

const usage = "npm run interop:client --";
const flags = parseFlagsOrExit(clientFlagSpec, process.argv.slice(2), usage);
let names: InteropCaseName[];
try {
  names = selectCases(flags.test_case);
} catch (err) {
  if (!(err instanceof FlagError)) throw err;
  console.error(`${err.message}\n\nusage: ${usage} [flags]\n${describeFlags(clientFlagSpec)}`);
  process.exit(2);
}

/** Generous: two shared cores, and a case that hangs must not hang the run. */
const caseTimeLimitMs = 30_000;

/**
 * A channel to the server. `ownConnection` gives it a subchannel pool of its own: channels
 * otherwise share connections, and channel_soak must build a new one each time.
 */
function openChannel(flags: ClientFlags, ownConnection = false): Channel {
  const override = flags.server_host_override === "" ? undefined : flags.server_host_override;
  const options: ChannelOptions = override === undefined ? {} : { authority: override };
  if (ownConnection) options.subchannelPool = new SubchannelPool();
  const creds = flags.use_tls ? credentials.tls({ ca: trustedCa(flags), serverNameOverride: override }) : credentials.insecure();
  return createChannel(serverTarget(flags), creds, options);
}

async function runCase(name: InteropCaseName, channel: Channel): Promise<CaseOutcome> {
  const soak = soakSettings(flags);
  const limitMs = name.endsWith("_soak") ? soak.overallTimeoutMs + caseTimeLimitMs : caseTimeLimitMs;
  let timer: NodeJS.Timeout | undefined;
  const timeLimit = new Promise<CaseOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "fail", reason: `still running after ${limitMs} ms` }), limitMs);
  });
  const run = interopCases[name]({
    client: createClient(TestService, channel),
    unimplementedService: createClient(UnimplementedService, channel),
    newChannel: () => openChannel(flags, true),
    soak,
  }).then(
    (): CaseOutcome => ({ kind: "pass" }),
    (err: unknown): CaseOutcome => ({ kind: "fail", reason: failureReason(err) }),
  );
  try {
    return await Promise.race([run, timeLimit]);
  } finally {
    clearTimeout(timer);
  }
}

const channel = openChannel(flags);
let failed = 0;
for (const name of names) {
  const outcome = await runCase(name, channel);
  if (outcome.kind === "fail") failed++;
  console.log(formatCaseResult({ name, outcome }));
}
channel.close();
process.exit(failed === 0 ? 0 : 1);
