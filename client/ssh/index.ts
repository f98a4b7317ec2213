// SSH transport: known_hosts checking and tunnels to a remote gopsd.
export { openSshTunnel, parseForward, type SshEndpoint, type SshTunnel, type SshTunnelOptions } from "./tunnel.js";
export {
  checkHostKey,
  describeVerdict,
  fingerprint,
  knownHostsName,
  parseKnownHosts,
  type HostKeyVerdict,
  type KnownHostsEntry,
} from "./known-hosts.js";
