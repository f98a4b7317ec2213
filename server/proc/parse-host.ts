// Host-wide /proc files: /proc/meminfo, /proc/stat, /proc/uptime.

export function parseMemTotalBytes(meminfo: string): number {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo);
  if (!m) throw new Error("no MemTotal line in /proc/meminfo");
  return Number(m[1]) * 1024;
}

export function parseBootTimeSeconds(stat: string): number {
  const m = /^btime\s+(\d+)/m.exec(stat);
  if (!m) throw new Error("no btime line in /proc/stat");
  return Number(m[1]);
}

export function parseUptimeSeconds(uptime: string): number {
  const v = Number(uptime.trim().split(/\s+/)[0]);
  if (!Number.isFinite(v)) throw new Error(`malformed /proc/uptime: ${JSON.stringify(uptime.slice(0, 40))}`);
  return v;
}
