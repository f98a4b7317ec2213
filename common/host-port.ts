// "host:port" and "[v6]:port" (the port optional where a caller allows it), split in one place for gopsd's listen
// address, gopsctl's --host and the clients' loopback check.

export interface HostPort {
  host: string;
  /** Undefined when the port was left off (only with `portOptional`). */
  port: number | undefined;
}

/** Splits an address; undefined when malformed or the port is not 0..65535. A bare IPv6 address needs brackets. */
export function splitHostPort(addr: string, opts: { portOptional?: boolean } = {}): HostPort | undefined {
  const port = opts.portOptional ? "(?::(\\d+))?" : ":(\\d+)";
  const m = new RegExp(`^\\[([^\\]]+)\\]${port}$`).exec(addr) ?? new RegExp(`^([^:[\\]]+)${port}$`).exec(addr);
  if (!m) return undefined;
  if (m[2] === undefined) return { host: m[1]!, port: undefined };
  const n = Number(m[2]);
  return n <= 65535 ? { host: m[1]!, port: n } : undefined;
}
