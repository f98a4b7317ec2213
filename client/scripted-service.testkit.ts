// Test support: a DiagnosticsService whose every RPC answers UNIMPLEMENTED unless the test scripts it.
import { ServerError, Status } from "nice-grpc";
import type { DiagnosticsServiceImplementation } from "../proto/index.js";

const unimplemented = (): never => {
  throw new ServerError(Status.UNIMPLEMENTED, "not scripted");
};

export function scriptedService(methods: Partial<DiagnosticsServiceImplementation>): DiagnosticsServiceImplementation {
  return {
    listProcesses: unimplemented,
    getProcess: unimplemented,
    getBuildInfo: unimplemented,
    stack: unimplemented,
    memStats: unimplemented,
    stats: unimplemented,
    version: unimplemented,
    forceGC: unimplemented,
    setGCPercent: unimplemented,
    streamProfile: unimplemented,
    streamTrace: unimplemented,
    streamBinary: unimplemented,
    watchStats: unimplemented,
    listCaptures: unimplemented,
    getCapture: unimplemented,
    deleteCapture: unimplemented,
    ...methods,
  };
}
