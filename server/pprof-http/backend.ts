// The net/http/pprof backend: the Diagnostics of one process through its /debug/pprof/ endpoint.
//   Stack         goroutine?debug=2 (streamed, bounded)
//   MemStats      /debug/vars memstats (expvar) when served, else the MemStats block at the end of heap?debug=1
//   Stats         goroutine and threadcreate counts (the agent's sources); GOMAXPROCS and NumCPU are unknown
//   Version       the Go version of the executable's build info (no request)
//   profiles      profile?seconds=N (CPU), heap, allocs, block, mutex, goroutine, threadcreate
//   trace         trace?seconds=N
//   GC, SetGCPercent, binary: no endpoint → FAILED_PRECONDITION
// CPU profiles and traces are captures in the governor (one per process at a time: the runtime has one CPU
// profiler and one tracer). Every request has a deadline and a byte limit, the AbortSignal stops it.
import { busy, endpointProtocol, endpointRefused, notSupportedBy } from "../../common/errors.js";
import { AgentKind, CaptureKind, ProfileKind, type CaptureMetadata, type StreamProfileResponse } from "../../proto/index.js";
import { ReplyFormatError } from "../agent/codec.js";
import type { BackendCallOptions, DiagnosticBackend } from "../diagnostic-backend.js";
import type { Governor } from "../governor.js";
import type { PprofEndpoint } from "./endpoints.js";
import { formatTarget, httpGet, printableLine, readBody, readHead, type HttpResponse } from "./http-get.js";
import { HEAP_MEMSTATS_MARKER, parseExpvarMemStats, parseHeapMemStats, parseProfileTotal } from "./parse.js";

/** Limits of the HTTP backend: deadlines (ms) and reply sizes (bytes). */
export const HttpLimits = Object.freeze({
  connectMs: 3_000,
  textMs: 10_000,
  profileMs: 30_000,
  /** Slack on top of a timed capture for the program to stop, encode and send it. */
  captureMarginMs: 15_000,
  textBytes: 1 << 20,
  /** heap?debug=1 is read to its end for the MemStats block; only the last `memStatsTailBytes` are kept. */
  heapTextBytes: 64 << 20,
  memStatsTailBytes: 64 << 10,
  stackBytes: 64 << 20,
  captureBytes: 512 << 20,
  /** Error texts: the first line of at most this much is shown. */
  errorTextBytes: 4 << 10,
});

export const DEFAULT_CPU_SECONDS = 30;
export const DEFAULT_TRACE_SECONDS = 5;

const WHO = "serves net/http/pprof";

const PROFILES: ReadonlyMap<ProfileKind, { path: string; capture: CaptureKind; label: string }> = new Map([
  [ProfileKind.PROFILE_KIND_HEAP, { path: "heap", capture: CaptureKind.CAPTURE_KIND_HEAP_PROFILE, label: "a heap profile" }],
  [ProfileKind.PROFILE_KIND_ALLOCS, { path: "allocs", capture: CaptureKind.CAPTURE_KIND_ALLOCS_PROFILE, label: "an allocs profile" }],
  [ProfileKind.PROFILE_KIND_BLOCK, { path: "block", capture: CaptureKind.CAPTURE_KIND_BLOCK_PROFILE, label: "a block profile" }],
  [ProfileKind.PROFILE_KIND_MUTEX, { path: "mutex", capture: CaptureKind.CAPTURE_KIND_MUTEX_PROFILE, label: "a mutex profile" }],
  [ProfileKind.PROFILE_KIND_GOROUTINE, { path: "goroutine", capture: CaptureKind.CAPTURE_KIND_GOROUTINE_PROFILE, label: "a goroutine profile" }],
  [
    ProfileKind.PROFILE_KIND_THREADCREATE,
    { path: "threadcreate", capture: CaptureKind.CAPTURE_KIND_THREADCREATE_PROFILE, label: "a threadcreate profile" },
  ],
]);

export interface HttpBackendDeps {
  pid: number;
  endpoint: PprofEndpoint;
  governor: Governor;
  host: string;
  /** The Go version from the executable's build info. */
  goVersion: () => string;
}

export function createHttpPprofBackend(d: HttpBackendDeps): DiagnosticBackend {
  const { pid, endpoint, governor, host } = d;
  const where = `${formatTarget(endpoint.target)}${endpoint.prefix} (pid ${pid})`;
  const url = (rest: string) => `${endpoint.prefix}/debug/pprof/${rest}`;

  /** GETs path; a status other than 200 becomes an error naming `what` (busy for a CPU profiler in use). */
  async function get(path: string, what: string, o: BackendCallOptions, deadlineMs: number, maxBytes: number): Promise<HttpResponse> {
    const res = await httpGet(endpoint.target, path, { signal: o.signal, connectTimeoutMs: HttpLimits.connectMs, deadlineMs, maxBytes, what });
    if (res.status === 200) return res;
    const text = printableLine(await readHead(res, HttpLimits.errorTextBytes, 0x0a).catch(() => Buffer.alloc(0)));
    if (res.status === 500 && /already in use|already enabled/i.test(text)) {
      throw busy(pid, `${what} is already running in the program (started by another client): ${text}`);
    }
    throw endpointRefused(where, what, res.status, text);
  }

  const parsed = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ReplyFormatError) throw endpointProtocol(where, e.message);
      throw e;
    }
  };

  /** The first line of a debug=1 profile, then the request is ended. */
  async function profileTotal(name: string, o: BackendCallOptions): Promise<{ n: number; line: string }> {
    const res = await get(url(`${name}?debug=1`), `the ${name} count`, o, HttpLimits.textMs, HttpLimits.textBytes);
    const line = (await readHead(res, 256, 0x0a)).toString("latin1").split("\n", 1)[0]!;
    return { n: parsed(() => parseProfileTotal(line, name)), line };
  }

  async function expvarMemStats(o: BackendCallOptions) {
    const res = await httpGet(endpoint.target, `${endpoint.prefix}/debug/vars`, {
      signal: o.signal,
      connectTimeoutMs: HttpLimits.connectMs,
      deadlineMs: HttpLimits.textMs,
      maxBytes: HttpLimits.textBytes,
      what: "expvar",
    });
    if (res.status !== 200 || !/json/i.test(res.contentType)) {
      res.close();
      return undefined; // expvar is not served (a 404 from the mux): use heap?debug=1
    }
    const text = (await readBody(res)).toString("utf8");
    return parsed(() => parseExpvarMemStats(text));
  }

  async function heapMemStats(o: BackendCallOptions) {
    const res = await get(url("heap?debug=1"), "the heap text", o, HttpLimits.textMs, HttpLimits.heapTextBytes);
    // Keep a window of the tail only: the heap text can be large, the MemStats block is at its end.
    let tail = Buffer.alloc(0);
    for await (const chunk of res.body) {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > 2 * HttpLimits.memStatsTailBytes) tail = tail.subarray(tail.length - HttpLimits.memStatsTailBytes);
    }
    const text = tail.toString("latin1");
    if (!text.includes(HEAP_MEMSTATS_MARKER)) throw endpointProtocol(where, "heap?debug=1 has no # runtime.MemStats block at its end");
    return parsed(() => parseHeapMemStats(text));
  }

  async function* capture(
    kind: CaptureKind,
    label: string,
    path: string,
    seconds: number,
    maxMs: number,
    exclusive: boolean,
    o: BackendCallOptions,
  ): AsyncGenerator<StreamProfileResponse> {
    const metadata: CaptureMetadata = {
      pid,
      kind,
      expectedDurationMs: seconds * 1000,
      fileExtension: kind === CaptureKind.CAPTURE_KIND_TRACE ? ".trace" : ".pprof.gz",
      host,
      backend: AgentKind.AGENT_KIND_HTTP_PPROF,
    };
    // Metadata first: net/http/pprof sends its status line only once a timed capture has ended.
    const body = async function* () {
      yield { payload: { $case: "metadata" as const, value: metadata } };
      const res = await get(path, label, o, maxMs, HttpLimits.captureBytes);
      try {
        for await (const chunk of res.body) yield { payload: { $case: "chunk" as const, value: chunk } };
      } finally {
        res.close();
      }
    };
    if (!exclusive) {
      yield* body();
      return;
    }
    const opts = { what: label, queueTimeoutMs: maxMs, signal: o.signal, capture: { label, expectedMs: seconds * 1000 } };
    yield* governor.stream(pid, opts, body);
  }

  return {
    name: "http-pprof",
    kind: AgentKind.AGENT_KIND_HTTP_PPROF,
    async *stack(o) {
      const res = await get(url("goroutine?debug=2"), "stack", o, HttpLimits.textMs, HttpLimits.stackBytes);
      try {
        yield* res.body;
      } finally {
        res.close();
      }
    },
    async memStats(o) {
      const m = (await expvarMemStats(o)) ?? (await heapMemStats(o));
      return {
        stats: m.stats,
        raw: m.raw,
        unknownKeys: m.unknownKeys,
        unknownFields: { names: m.unknownFields },
        ...(m.pauseNs ? { pauseNs: m.pauseNs } : {}),
      };
    },
    async stats(o) {
      const goroutines = await profileTotal("goroutine", o);
      const threads = await profileTotal("threadcreate", o);
      return {
        goroutines: goroutines.n,
        osThreads: threads.n,
        gomaxprocs: 0,
        numCpu: 0,
        raw: `${goroutines.line}\n${threads.line}\n`,
        unknownFields: { names: ["gomaxprocs", "num_cpu"] },
      };
    },
    async version() {
      return { goVersion: d.goVersion() };
    },
    async forceGC() {
      throw notSupportedBy(pid, WHO, "has no endpoint to run the GC");
    },
    async setGCPercent() {
      throw notSupportedBy(pid, WHO, "has no endpoint to set GOGC");
    },
    async *profile(kind, durationSeconds, o) {
      if (kind === ProfileKind.PROFILE_KIND_CPU) {
        const s = durationSeconds ?? DEFAULT_CPU_SECONDS;
        const ms = s * 1000 + HttpLimits.captureMarginMs;
        yield* capture(CaptureKind.CAPTURE_KIND_CPU_PROFILE, "a CPU profile", url(`profile?seconds=${s}`), s, ms, true, o);
        return;
      }
      const p = PROFILES.get(kind)!;
      yield* capture(p.capture, p.label, url(p.path), 0, HttpLimits.profileMs, false, o);
    },
    async *trace(durationSeconds, o) {
      const s = durationSeconds ?? DEFAULT_TRACE_SECONDS;
      yield* capture(CaptureKind.CAPTURE_KIND_TRACE, "a trace", url(`trace?seconds=${s}`), s, s * 1000 + HttpLimits.captureMarginMs, true, o);
    },
    // eslint-disable-next-line require-yield
    async *binary() {
      throw notSupportedBy(pid, WHO, "has no endpoint that sends the executable");
    },
  };
}
