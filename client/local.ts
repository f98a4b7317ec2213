// The in-process backend: the same core gopsd serves, called directly, so `gopsctl` without --host needs no
// daemon (like gops). It honours the same call options as the gRPC client: `signal` and `deadline`.
import { hostname } from "node:os";
import { GopsError, noCaptureStore, Status } from "../common/errors.js";
import { createHostDiagnostics, type HostDiagnosticsOptions } from "../server/host-diagnostics.js";
import { fileFinishingStore, finishingDir, type StartTimeOf } from "../server/finishing-captures.js";
import { formatDurationMs } from "../common/duration.js";
import type { Diagnostics, DiagnosticsHandle } from "../common/diagnostics.js";

type CallOpts = { signal?: AbortSignal; deadline?: Date | number };

const noStore = async (): Promise<never> => {
  throw noCaptureStore("captures are kept by gopsd: ask one with --host, --hosts, -l or --all");
};

export function createLocalDiagnostics(opts: Partial<HostDiagnosticsOptions> = {}): DiagnosticsHandle {
  // Each gopsctl run is a new process: captures abandoned with Ctrl-C, which the agent runs to their end, are
  // remembered in a file of the user's own, so the next run says so instead of waiting silently behind one.
  const finishingStore = (startOf: StartTimeOf) => fileFinishingStore(finishingDir(), startOf);
  const core = createHostDiagnostics({ hostName: hostname(), agentTimeouts: {}, finishingStore, ...opts });
  const unary =
    <Req, Res>(fn: (req: Req, o: { signal: AbortSignal }) => Promise<Res>) =>
    async (req: Req, o: CallOpts = {}): Promise<Res> => {
      const call = callSignal(o);
      try {
        return await fn(req, { signal: call.signal });
      } catch (e) {
        throw call.translate(e);
      } finally {
        call.done();
      }
    };
  const stream =
    <Req, Res>(fn: (req: Req, o: { signal: AbortSignal }) => AsyncIterable<Res>) =>
    async function* (req: Req, o: CallOpts = {}): AsyncIterable<Res> {
      const call = callSignal(o);
      try {
        yield* fn(req, { signal: call.signal });
      } catch (e) {
        throw call.translate(e);
      } finally {
        call.done();
      }
    };
  const local: Diagnostics = {
    listProcesses: unary(core.listProcesses),
    getProcess: unary(core.getProcess),
    getBuildInfo: unary(core.getBuildInfo),
    stack: stream(core.stack),
    memStats: unary(core.memStats),
    stats: unary(core.stats),
    version: unary(core.version),
    forceGC: unary(core.forceGC),
    setGCPercent: unary(core.setGCPercent),
    streamProfile: stream(core.streamProfile),
    streamTrace: stream(core.streamTrace),
    streamBinary: stream(core.streamBinary),
    watchStats: stream(core.watchStats),
    // Captures are kept by a gopsd (its capture.dir), never by gopsctl itself.
    listCaptures: noStore,
    getCapture: () => ({
      [Symbol.asyncIterator]: () => ({ next: noStore }),
    }),
    deleteCapture: noStore,
  };
  return { ...local, target: "local", close: () => {} };
}

/** One signal for the call: the caller's, plus the deadline; a deadline that fires becomes DEADLINE_EXCEEDED. */
function callSignal(o: CallOpts) {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(o.signal?.reason);
  o.signal?.addEventListener("abort", onAbort, { once: true });
  if (o.signal?.aborted) onAbort();
  // The reason the deadline aborts with: the call timed out exactly when the signal carries it.
  const deadlineReached = new Error("deadline");
  let timer: NodeJS.Timeout | undefined;
  let deadlineMs = 0;
  if (o.deadline !== undefined) {
    deadlineMs = typeof o.deadline === "number" ? o.deadline : o.deadline.getTime() - Date.now();
    timer = setTimeout(() => ctl.abort(deadlineReached), Math.max(0, deadlineMs));
  }
  return {
    signal: ctl.signal,
    translate(e: unknown): unknown {
      if (ctl.signal.reason === deadlineReached) {
        return new GopsError(Status.DEADLINE_EXCEEDED, `the call did not finish within ${formatDurationMs(deadlineMs)}`);
      }
      return e;
    },
    done() {
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
    },
  };
}
