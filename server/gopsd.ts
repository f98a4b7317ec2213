// Builds and starts a gopsd server from a config: the Diagnostics service behind the error middleware, plus
// grpc.health.v1 and server reflection. Used by main.ts and by tests that need a real server on 127.0.0.1:0.
import { readFileSync } from "node:fs";
import { chmod, rm } from "node:fs/promises";
import { createServer } from "nice-grpc";
import { HealthDefinition, HealthServiceImpl, HealthState } from "nice-grpc-server-health";
import { ServerReflection, ServerReflectionService } from "nice-grpc-server-reflection";
import { DiagnosticsServiceDefinition } from "../proto/index.js";
import type { GopsdConfig } from "./config.js";
import { errorMiddleware } from "./error-middleware.js";
import { createHostDiagnostics } from "./host-diagnostics.js";
import { diagnosticsService } from "./service.js";

export interface RunningGopsd {
  /** The address clients dial: "127.0.0.1:PORT" or "unix:/path". */
  readonly address: string;
  close(): Promise<void>;
}

export interface GopsdLog {
  error(msg: string): void;
}

export async function startGopsd(config: GopsdConfig, log: GopsdLog): Promise<RunningGopsd> {
  const core = createHostDiagnostics({ hostName: config.hostName, agentTimeouts: config.agentTimeouts });
  const health = HealthState();
  const server = createServer({
    "grpc.max_receive_message_length": 64 * 1024,
  }).use(
    errorMiddleware((method, e) => log.error(`${method}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)),
  );
  server.add(DiagnosticsServiceDefinition, diagnosticsService(core));
  server.add(HealthDefinition, HealthServiceImpl(health));
  server.add(
    ServerReflectionService,
    ServerReflection(readFileSync(descriptorSetPath()), [DiagnosticsServiceDefinition.fullName, "grpc.health.v1.Health"]),
  );

  let address: string;
  if (config.listen.startsWith("unix:")) {
    const path = config.listen.slice(5);
    await rm(path, { force: true });
    // Owner-only from the moment the socket exists: no window where another user could connect.
    const oldMask = process.umask(0o177);
    try {
      await server.listen(config.listen);
    } finally {
      process.umask(oldMask);
    }
    await chmod(path, 0o600);
    address = config.listen;
  } else {
    const port = await server.listen(config.listen);
    address = config.listen.replace(/:\d+$/, `:${port}`);
  }
  health.setStatus("healthy", DiagnosticsServiceDefinition.fullName);
  return {
    address,
    async close() {
      health.setStatus("unhealthy");
      server.forceShutdown();
    },
  };
}

/** The FileDescriptorSet built by `npm run generate`, next to the generated code (source tree or dist/). */
function descriptorSetPath(): URL {
  return new URL("../proto/gen/gops.binpb", import.meta.url);
}
