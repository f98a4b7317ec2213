// Loopback: traffic that never leaves the machine. gopsd refuses to serve TCP off loopback without TLS and auth,
// and the client refuses to send a token in clear text off loopback; both ask this one function.

/** "localhost", an IPv4 address in 127.0.0.0/8, or ::1 (in any spelling, e.g. 0:0:0:0:0:0:0:1). */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === "localhost") return true;
  // node:net when first asked (a local `gopsctl ps` never is: the module is a few ms of its start).
  const { isIP } = process.getBuiltinModule("node:net");
  if (isIP(host) === 4) return host.startsWith("127.");
  return isIP(host) === 6 && /^(0*:){2,7}0*1$/.test(host) && expandsToOne(host);
}

/** Whether an IPv6 address written with only zeros and a final 1 is ::1 (all groups zero but the last). */
function expandsToOne(host: string): boolean {
  const [head = "", tail = ""] = host.split("::");
  const groups = host.includes("::") ? [...head.split(":").filter(Boolean), ...tail.split(":").filter(Boolean)] : host.split(":");
  return groups.length <= 8 && groups.slice(0, -1).every((g) => /^0+$/.test(g)) && /^0*1$/.test(groups.at(-1) ?? "");
}

/**
 * An IP address (not a name) that is loopback: IPv4 in 127.0.0.0/8 or ::1 (any spelling). What gopsd and the
 * local CLI dial a gops agent on, whatever namespace it lives in (server/agent/client.ts, agentAddress).
 */
export function isLoopbackIp(ip: string): boolean {
  return ip.toLowerCase() !== "localhost" && isLoopbackHost(ip);
}
