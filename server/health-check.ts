// `gopsd --health-check [--config FILE] [flags]`: asks the gopsd that this configuration describes whether it serves
// (grpc.health.v1 Check, which needs no token), from the same host, and exits 0 when it answers SERVING.
//
// For probes that run beside gopsd: the DaemonSet's exec probes (deploy/kubernetes/gopsd-daemonset.yaml). A
// Kubernetes gRPC probe dials the pod's IP in plaintext, and gopsd on a non-loopback address serves TLS only; this
// check speaks TLS to the listen address itself (a wildcard address is asked on loopback). It verifies no
// certificate: it asks a process on this host whether it is alive, and sends nothing but the health request. A
// gopsd that requires client certificates (tls.clientCa) refuses the handshake, so the check fails there.
import { ChannelCredentials } from "@grpc/grpc-js";
import { createChannel, createClient } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { HealthCheckResponse_ServingStatus } from "nice-grpc-server-health/lib/proto/grpc/health/v1/health.js";
import { splitHostPort } from "../common/host-port.js";
import { firstLine } from "../common/first-line.js";
import type { GopsdConfig } from "./config.js";

const CHECK_TIMEOUT_MS = 5_000;

/** The address to dial for a listen address: a wildcard (all addresses) is reached on loopback. */
export function healthCheckTarget(listen: string): string {
  if (listen.startsWith("unix:")) return listen;
  const hp = splitHostPort(listen)!;
  if (hp.host === "0.0.0.0") return `127.0.0.1:${hp.port}`;
  if (hp.host === "::") return `[::1]:${hp.port}`;
  return hp.host.includes(":") ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** Exit code 0 when the gopsd of `config` answers SERVING, 1 otherwise (with one line on stderr). */
export async function checkHealth(config: GopsdConfig, say: (line: string) => void): Promise<number> {
  const target = healthCheckTarget(config.listen);
  const credentials =
    config.tls !== undefined
      ? ChannelCredentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined })
      : ChannelCredentials.createInsecure();
  const channel = createChannel(target, credentials);
  try {
    const { status } = await createClient(HealthDefinition, channel).check({ service: "" }, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    if (status === HealthCheckResponse_ServingStatus.SERVING) return 0;
    say(`health check: ${target} answers ${HealthCheckResponse_ServingStatus[status] ?? status}`);
    return 1;
  } catch (e) {
    say(`health check: ${target}: ${firstLine(e)}`);
    return 1;
  } finally {
    channel.close();
  }
}
