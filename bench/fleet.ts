// Fleet benchmarks (not tests): `node --import tsx bench/fleet.ts [fanout|tunnel]`. Each figure is printed with a
// ratio against a baseline measured in the same run, then the whole result as one JSON line.
//
//  fanout  memstats fanned out to 32 gopsd hosts, each with its own fixture process (a gops agent serves one
//          connection at a time, so a shared one would serialise the hosts), against the same call to one host
//          through the same Fleet code: goal ratio <= 2. Also GetBuildInfo (cached on the host, no agent), which
//          shows the fan-out machinery with the least host work. All 32 "hosts" share this machine's 2 cores, so
//          the 32-host figure is bound by this machine's CPU, not by the fan-out; the last row isolates the Fleet's
//          own cost: the same 32 memstats calls through the Fleet against a plain Promise.all over 32 direct
//          clients, in the same run (ratio ~1 = the Fleet adds nothing measurable).
//  tunnel  a unary call (memstats) through the ssh2 tunnel against direct (goal p50 <= 2 ms), and a stream
//          (StreamBinary, the fixture's executable) through the tunnel against direct (goal >= 0.5x throughput).
import { connect } from "../client/connect.js";
import type { Diagnostics } from "../common/diagnostics.js";
import { createFleet, type FleetHost } from "../client/fleet/index.js";
import { openSshTunnel } from "../client/ssh/index.js";
import { startFixture, startGopsd, type Gopsd } from "../integration/harness.js";
import { startSshd } from "../integration/sshd.js";
import { percentile, timeAsync } from "./measure.js";

const FANOUT_HOSTS = Number(process.env.BENCH_FLEET_HOSTS ?? 32);

interface Row {
  bench: string;
  metric: string;
  value: number;
  unit: "ms" | "MiB/s";
  baseline: string;
  baselineValue: number;
  ratio: number;
  goal?: string;
}
const rows: Row[] = [];

async function startMany(n: number): Promise<Gopsd[]> {
  const out: Gopsd[] = [];
  for (let i = 0; i < n; i += 4) {
    const batch = Array.from({ length: Math.min(4, n - i) }, (_, j) => startGopsd({ args: ["--host-name", `bench-${i + j + 1}`] }));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

async function fanout(): Promise<void> {
  const fixtures = await Promise.all(Array.from({ length: FANOUT_HOSTS }, () => startFixture("agentprog")));
  const gopsds = await startMany(FANOUT_HOSTS);
  const hosts: FleetHost[] = gopsds.map((g, i) => ({ name: `bench-${i + 1}`, address: g.address, labels: {}, source: "fleet" }));
  const pidOf = (host: string) => ({ pid: fixtures[Number(host.slice("bench-".length)) - 1]!.pid });
  const many = createFleet(hosts, { perHostDeadlineMs: 10_000 });
  const one = createFleet(hosts.slice(0, 1), { perHostDeadlineMs: 10_000 });
  const direct = hosts.map((h) => ({ name: h.name, client: connect(h.address!) }));
  try {
    for (const rpc of ["memStats", "getBuildInfo"] as const) {
      const run = async (fleet: typeof many) => {
        let ok = 0;
        for await (const r of fleet[rpc](pidOf)) if (r.value) ok++;
        if (ok !== fleet.hosts.length) throw new Error(`only ${ok}/${fleet.hosts.length} hosts answered`);
      };
      await timeAsync(10, () => run(many)); // connect and warm every host
      await timeAsync(20, () => run(one));
      const m: number[] = [];
      const o: number[] = [];
      for (let round = 0; round < 5; round++) {
        o.push(...(await timeAsync(20, () => run(one))));
        m.push(...(await timeAsync(10, () => run(many))));
      }
      const mp = percentile(m, 50);
      const op = percentile(o, 50);
      rows.push({
        bench: "fanout",
        metric: `${rpc} to ${FANOUT_HOSTS} hosts p50`,
        value: mp,
        unit: "ms",
        baseline: `${rpc} to 1 host p50 (same Fleet code)`,
        baselineValue: op,
        ratio: mp / op,
        goal: "ratio <= 2",
      });
    }

    // The Fleet's own cost: the same calls, same hosts, same run, without it.
    const viaFleet = async () => {
      let ok = 0;
      for await (const r of many.memStats(pidOf)) if (r.value) ok++;
      if (ok !== hosts.length) throw new Error(`only ${ok}/${hosts.length} hosts answered`);
    };
    const plain = () => Promise.all(direct.map((d) => d.client.memStats(pidOf(d.name), { deadline: 10_000 })));
    await timeAsync(10, plain);
    await timeAsync(10, viaFleet);
    const f: number[] = [];
    const p: number[] = [];
    for (let round = 0; round < 5; round++) {
      p.push(...(await timeAsync(10, plain)));
      f.push(...(await timeAsync(10, viaFleet)));
    }
    const fp = percentile(f, 50);
    const pp = percentile(p, 50);
    rows.push({
      bench: "fanout",
      metric: `memStats Fleet fan-out to ${FANOUT_HOSTS} hosts p50`,
      value: fp,
      unit: "ms",
      baseline: `Promise.all of ${FANOUT_HOSTS} direct client calls p50`,
      baselineValue: pp,
      ratio: fp / pp,
      goal: "ratio ~1 (Fleet overhead)",
    });
  } finally {
    many.close();
    one.close();
    for (const d of direct) d.client.close();
    await Promise.all(gopsds.map((g) => g.stop()));
    await Promise.all(fixtures.map((f) => f.stop()));
  }
}

async function streamMiBps(client: Diagnostics, pid: number, rounds: number): Promise<number> {
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    for await (const m of client.streamBinary({ pid })) if (m.payload?.$case === "chunk") bytes += m.payload.value.length;
  }
  return bytes / (1024 * 1024) / ((performance.now() - t0) / 1000);
}

async function tunnel(): Promise<void> {
  const [fixture, gopsd, sshd] = await Promise.all([startFixture("agentprog"), startGopsd({ args: ["--host-name", "bench"] }), startSshd()]);
  const t0 = performance.now();
  const tun = await openSshTunnel({
    target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [sshd.identityFile], knownHostsFiles: [sshd.knownHostsFile], agentSocket: "" },
    forward: gopsd.address,
  });
  const tunnelUpMs = performance.now() - t0;
  const direct = connect(gopsd.address);
  const viaSsh = connect(tun.localAddress);
  try {
    const call = (c: Diagnostics) => () => c.memStats({ pid: fixture.pid });
    await timeAsync(50, call(direct));
    await timeAsync(50, call(viaSsh));
    const d: number[] = [];
    const s: number[] = [];
    for (let round = 0; round < 5; round++) {
      d.push(...(await timeAsync(100, call(direct))));
      s.push(...(await timeAsync(100, call(viaSsh))));
    }
    const dp = percentile(d, 50);
    const sp = percentile(s, 50);
    rows.push({ bench: "tunnel", metric: "ssh tunnel + SSH handshake (connection up)", value: tunnelUpMs, unit: "ms", baseline: "-", baselineValue: 0, ratio: 0 });
    rows.push({ bench: "tunnel", metric: "memstats via ssh2 tunnel p50", value: sp, unit: "ms", baseline: "memstats direct p50", baselineValue: dp, ratio: sp / dp, goal: "<= 2 ms" });
    rows.push({ bench: "tunnel", metric: "memstats via ssh2 tunnel p90", value: percentile(s, 90), unit: "ms", baseline: "memstats direct p90", baselineValue: percentile(d, 90), ratio: percentile(s, 90) / percentile(d, 90) });
    await streamMiBps(direct, fixture.pid, 2);
    await streamMiBps(viaSsh, fixture.pid, 2);
    const dm = await streamMiBps(direct, fixture.pid, 10);
    const sm = await streamMiBps(viaSsh, fixture.pid, 10);
    rows.push({ bench: "tunnel", metric: "StreamBinary via ssh2 tunnel", value: sm, unit: "MiB/s", baseline: "StreamBinary direct", baselineValue: dm, ratio: sm / dm, goal: "ratio >= 0.5" });
  } finally {
    direct.close();
    viaSsh.close();
    tun.close();
    await Promise.all([gopsd.stop(), fixture.stop(), sshd.stop()]);
  }
}

const only = process.argv[2];
if (!only || only === "fanout") await fanout();
if (!only || only === "tunnel") await tunnel();

const fmt = (n: number) => n.toFixed(3).padStart(10);
console.log(`${"bench".padEnd(8)} ${"metric".padEnd(44)} ${"value".padStart(10)} unit  ${"baseline".padStart(10)} ${"ratio".padStart(6)}  goal`);
for (const r of rows) {
  console.log(
    `${r.bench.padEnd(8)} ${r.metric.padEnd(44)} ${fmt(r.value)} ${r.unit.padEnd(5)} ${fmt(r.baselineValue)} ${r.ratio.toFixed(2).padStart(6)}  ${r.goal ?? ""}  (baseline: ${r.baseline})`,
  );
}
console.log(JSON.stringify({ date: new Date().toISOString(), rows }));
process.exit(0);
