// The capture engine: a subscriber of the host's shared sampler (WatchStats, the sampler `top` and the exporter
// use: rules add no reads of their own), which evaluates the rules on every sample it gets and, when one fires,
// takes the evidence from that process into the store: goroutine stacks and memstats always, then what the rule
// asks for (heap profile by default, CPU profile, trace), through the same calls an operator would make (the
// governor serialises them with everyone else's and refuses a second CPU profile or trace).
//
// Safety: a cooldown per process and rule (started when a capture starts, whatever its outcome); at most
// maxPerMinute captures started per rolling minute on the host; at most one capture in flight per process and
// MAX_IN_FLIGHT in all: a firing that finds its process still being captured is dropped, never queued, so
// captures cannot pile up behind a hung agent; each capture has a deadline (every call in it also has its own).
// Each call is written to the audit log like an operator's, with `"trigger": rule name` and no subject.
import { DiagnosticsServiceDefinition, ProfileKind, type CaptureInfo, type ProcessStats } from "../../proto/index.js";
import { GopsError, Status } from "../../common/errors.js";
import { firstLine } from "../../common/first-line.js";
import type { AuditRecord } from "../auth/audit.js";
import type { HostDiagnostics } from "../host-diagnostics.js";
import { RuleEvaluator, processKeyOf, type Firing, type ProcessIdentity } from "./evaluate.js";
import type { CaptureRule, Extra } from "./rules.js";
import type { CaptureSettings } from "./settings.js";
import { newCaptureId, type CaptureStore, type CaptureWriter } from "./store.js";

/** Captures in flight on the host at once. */
export const MAX_IN_FLIGHT = 4;
/** A capture's deadline: this for stacks, memstats and a heap profile, plus the timed captures' own lengths. */
const BASE_DEADLINE_MS = 60_000;
const EXTRA_DEADLINE_MS: Readonly<Record<Extra, number>> = { heap: 0, cpu: 45_000, trace: 20_000 };
/** The global rate limit counts the captures started in this rolling window. */
const RATE_WINDOW_MS = 60_000;

export type CaptureCore = Pick<HostDiagnostics, "watchStats" | "getProcess" | "stack" | "memStats" | "streamProfile" | "streamTrace">;

export interface CaptureEngineDeps {
  host: string;
  core: CaptureCore;
  store: CaptureStore;
  settings: Pick<CaptureSettings, "rules" | "intervalMs" | "cooldownMs" | "maxPerMinute">;
  audit(record: AuditRecord): void;
  log(msg: string): void;
  /** Wall clock, ms (tests). */
  now?: () => number;
}

/** What tests and the bench can see. */
export interface EngineCounters {
  samples: number;
  firings: number;
  started: number;
  skippedCooldown: number;
  skippedBusy: number;
  skippedRate: number;
  failed: number;
}

const method = (name: keyof typeof DiagnosticsServiceDefinition.methods) => `/${DiagnosticsServiceDefinition.fullName}/${DiagnosticsServiceDefinition.methods[name].name}`;

export class CaptureEngine {
  private readonly evaluator: RuleEvaluator;
  private readonly life = new AbortController();
  private readonly cooldowns = new Map<string, number>();
  private readonly starts: number[] = [];
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly identities = new Map<string, ProcessIdentity | null>();
  private loop: Promise<void> | undefined;
  private rateLoggedAt = -Infinity;
  readonly counters: EngineCounters = { samples: 0, firings: 0, started: 0, skippedCooldown: 0, skippedBusy: 0, skippedRate: 0, failed: 0 };
  private readonly now: () => number;

  constructor(private readonly deps: CaptureEngineDeps) {
    this.evaluator = new RuleEvaluator(deps.settings.rules);
    this.now = deps.now ?? Date.now;
  }

  /** Subscribes to the sampler; runs until stop(). */
  start(): void {
    if (this.loop || this.deps.settings.rules.length === 0) return;
    this.loop = this.run().catch((e: unknown) => this.deps.log(`capture rules stopped: ${firstLine(e)}`));
  }

  /** Resolves when no capture is in flight (tests, the bench). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Unsubscribes and cuts the captures in flight (they are removed, not kept half-written). */
  async stop(): Promise<void> {
    this.life.abort(new Error("gopsd is stopping"));
    await this.loop;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private async run(): Promise<void> {
    const signal = this.life.signal;
    // The sampler ends a subscription only when asked to; if it ever throws, subscribe again a moment later.
    while (!signal.aborted) {
      try {
        for await (const msg of this.deps.core.watchStats({ intervalMs: this.deps.settings.intervalMs, pids: [] }, { signal })) {
          await this.onSample(msg.processes);
        }
      } catch (e) {
        if (signal.aborted) return;
        this.deps.log(`capture rules: the sampler failed: ${firstLine(e)}; subscribing again`);
      }
      if (!signal.aborted) await new Promise((r) => setTimeout(r, this.deps.settings.intervalMs));
    }
  }

  /** Evaluates one sample and starts the captures its firings earn. Exposed for tests and the bench. */
  async onSample(processes: readonly ProcessStats[]): Promise<Firing[]> {
    this.counters.samples++;
    const present = new Set(processes.map(processKeyOf));
    for (const k of this.identities.keys()) if (!present.has(k)) this.identities.delete(k);
    if (this.evaluator.needsIdentity()) await this.resolveIdentities(processes);
    const firings = this.evaluator.evaluate({ processes }, (p) => this.identities.get(processKeyOf(p)) ?? undefined);
    this.counters.firings += firings.length;
    for (const f of firings) this.consider(f);
    return firings;
  }

  private async resolveIdentities(processes: readonly ProcessStats[]): Promise<void> {
    for (const p of processes) {
      const key = processKeyOf(p);
      if (!this.identities.has(key)) this.identities.set(key, await this.identityOf(p.pid));
    }
  }

  /** exe, container and pod from the process listing (one /proc read per process, once). */
  private async identityOf(pid: number): Promise<ProcessIdentity | null> {
    try {
      const { process: p } = await this.deps.core.getProcess({ pid, cpuSampleMs: 0 }, { signal: this.life.signal });
      const c = p?.container;
      return {
        exe: p?.exe ?? "",
        container: { name: c?.name ?? "", id: c?.id ?? "" },
        pod: { name: c?.podName ?? "", namespace: c?.podNamespace ?? "" },
      };
    } catch {
      return null;
    }
  }

  private consider(f: Firing): void {
    const now = this.now();
    const pid = f.sample.pid;
    const cooldownKey = `${f.rule.name}\0${f.processKey}`;
    const last = this.cooldowns.get(cooldownKey);
    if (last !== undefined && now - last < this.deps.settings.cooldownMs) {
      this.counters.skippedCooldown++;
      return;
    }
    if (this.inFlight.has(pid) || this.inFlight.size >= MAX_IN_FLIGHT) {
      this.counters.skippedBusy++;
      return;
    }
    while (this.starts.length > 0 && now - this.starts[0]! >= RATE_WINDOW_MS) this.starts.shift();
    if (this.starts.length >= this.deps.settings.maxPerMinute) {
      this.counters.skippedRate++;
      if (now - this.rateLoggedAt >= RATE_WINDOW_MS) {
        this.rateLoggedAt = now;
        this.deps.log(`capture rule ${f.rule.name} fired on pid ${pid} but ${this.deps.settings.maxPerMinute} captures already started this minute (capture.maxPerMinute): not captured`);
      }
      return;
    }
    for (const [k, at] of this.cooldowns) if (now - at >= this.deps.settings.cooldownMs) this.cooldowns.delete(k);
    this.cooldowns.set(cooldownKey, now);
    this.starts.push(now);
    this.counters.started++;
    const run = this.capture(f)
      .catch((e: unknown) => {
        this.counters.failed++;
        this.deps.log(`capture of pid ${pid} (rule ${f.rule.name}) failed: ${firstLine(e)}`);
      })
      .finally(() => this.inFlight.delete(pid));
    this.inFlight.set(pid, run);
  }

  private async capture(f: Firing): Promise<void> {
    const { rule, sample } = f;
    const firedAt = this.now();
    const deadline = BASE_DEADLINE_MS + rule.extras.reduce((ms, x) => ms + EXTRA_DEADLINE_MS[x], 0);
    const signal = AbortSignal.any([this.life.signal, AbortSignal.timeout(deadline)]);
    const id = this.identities.get(f.processKey) ?? (await this.identityOf(sample.pid));
    const info: CaptureInfo = {
      id: newCaptureId(sample.pid, new Date(firedAt)),
      host: this.deps.host,
      pid: sample.pid,
      exe: id?.exe ?? "",
      name: sample.name,
      modulePath: sample.modulePath,
      container: id?.container.name || id?.container.id || "",
      pod: id?.pod.name ? (id.pod.namespace ? `${id.pod.namespace}/${id.pod.name}` : id.pod.name) : "",
      rule: rule.name,
      reason: f.reason,
      timeUnixMs: firedAt,
      finishedUnixMs: 0,
      bytes: 0,
      files: [],
      errors: [],
    };
    const writer = await this.deps.store.begin(info, { ruleText: rule.text, sample });
    try {
      const pid = sample.pid;
      await this.step(writer, rule, "stack", "goroutines.txt", signal, (o) => mapChunks(this.deps.core.stack({ pid }, o), (m) => m.chunk));
      await this.step(writer, rule, "memStats", "memstats.json", signal, (o) => once(async () => Buffer.from(JSON.stringify(await this.deps.core.memStats({ pid }, o), null, 2) + "\n")));
      for (const extra of rule.extras) {
        if (extra === "trace") {
          await this.step(writer, rule, "streamTrace", "trace.out", signal, (o) => profileChunks(this.deps.core.streamTrace({ pid }, o)));
        } else {
          const kind = extra === "cpu" ? ProfileKind.PROFILE_KIND_CPU : ProfileKind.PROFILE_KIND_HEAP;
          await this.step(writer, rule, "streamProfile", `${extra}.pprof.gz`, signal, (o) => profileChunks(this.deps.core.streamProfile({ pid, kind }, o)));
        }
      }
      if (this.life.signal.aborted) throw this.life.signal.reason;
      const done = await writer.commit(this.now());
      this.deps.log(`captured pid ${pid} (${sample.name}) for rule ${rule.name}: ${f.reason}; ${done.id}, ${done.files.length} files, ${done.bytes} bytes${done.errors.length > 0 ? `, ${done.errors.length} failed` : ""}`);
    } catch (e) {
      await writer.abort();
      throw e;
    }
  }

  /** One call of the capture into one file, audited like an operator's call; its failure is noted, not thrown. */
  private async step(
    writer: CaptureWriter,
    rule: CaptureRule,
    name: keyof typeof DiagnosticsServiceDefinition.methods,
    file: string,
    signal: AbortSignal,
    call: (o: { signal: AbortSignal; onBackend: (b: string) => void }) => AsyncIterable<Uint8Array>,
  ): Promise<void> {
    const started = this.now();
    let backend: string | undefined;
    const base = {
      time: new Date(started).toISOString(),
      host: this.deps.host,
      subject: null,
      jti: null,
      peer: "gopsd",
      certSubject: null,
      method: method(name),
      pid: writer.info.pid,
      trigger: rule.name,
    };
    this.deps.audit({ ...base, outcome: "STARTED", bytes: null, durationMs: 0, phase: "start" });
    let bytes = 0;
    let error: unknown;
    try {
      if (signal.aborted) throw signal.reason;
      await writer.addFile(
        file,
        tap(call({ signal, onBackend: (b) => (backend = b) }), (n) => (bytes += n)),
      );
    } catch (e) {
      error = e;
      writer.error(`${file}: ${firstLine(e)}`);
    }
    const outcome = error === undefined ? "OK" : error instanceof GopsError ? Status[error.code] : signal.aborted ? "DEADLINE_EXCEEDED" : "INTERNAL";
    this.deps.audit({
      ...base,
      outcome: outcome ?? "UNKNOWN",
      ...(error !== undefined ? { error: firstLine(error) } : {}),
      ...(backend !== undefined ? { backend } : {}),
      bytes,
      durationMs: this.now() - started,
    });
  }
}

async function* mapChunks<T>(src: AsyncIterable<T>, f: (x: T) => Uint8Array): AsyncGenerator<Uint8Array> {
  for await (const x of src) yield f(x);
}

async function* once(f: () => Promise<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield await f();
}

/** The chunks of a profile or trace stream (its metadata message carries no bytes). */
async function* profileChunks(src: AsyncIterable<{ payload?: { $case: string; value: unknown } | undefined }>): AsyncGenerator<Uint8Array> {
  for await (const m of src) if (m.payload?.$case === "chunk") yield m.payload.value as Uint8Array;
}

async function* tap(src: AsyncIterable<Uint8Array>, count: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    count(c.length);
    yield c;
  }
}
