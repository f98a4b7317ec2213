// Aggregation of refused calls, so that a flood of refusals cannot flood the audit log. Refusals are grouped by
// source address, outcome, method, subject and reason. The first few refusals of a group in a window (1 s) are
// written at once, whole (3 by default: a user retrying a typo gets a line per try); further ones in the same
// window are only counted, and when the window ends one summary line says "refused N calls from ADDR: reason"
// (with `count: N`). A group with nothing to report at the end of a window is
// forgotten, so the next refusal is again written at once. The table of groups is bounded: when it is full, new
// groups share one overflow group whose peer is "(other peers)". Pure over an injected clock; the timer that
// closes windows is optional (tests call flush()). The timer is armed for the earliest window end of the groups
// held (none while no group is), so a summary is written as its window ends, not up to a window later as with a
// fixed-period timer whose ticks are not aligned to the groups' windows. A count is never lost: close() writes
// every pending summary, and a refusal recorded after close() is written whole.
import type { AuditRecord, AuditSink } from "./audit.js";

export interface RefusalLog {
  /**
   * Records a refused call (or an answered one that must not flood the log: a health check over its address's
   * budget): written now, or counted into its group's summary.
   */
  refused(record: AuditRecord): void;
  /** Writes the summaries of windows that have ended (all of them with `all`). */
  flush(all?: boolean): void;
  /** Groups held. */
  size(): number;
  /** Writes every pending summary and stops the timer. */
  close(): void;
}

export interface RefusalLogOptions {
  /** Length of an aggregation window. Default 1000 ms. */
  readonly windowMs?: number;
  /** Refusals of a group written whole per window before the rest are counted. Default 3. */
  readonly wholePerWindow?: number;
  /** Most groups held at once. Default 1024. */
  readonly maxGroups?: number;
  readonly nowMs?: () => number;
  /** Close windows on a timer (unref'd). Default true. */
  readonly timer?: boolean;
}

export const OVERFLOW_PEER = "(other peers)";

interface Group {
  /** The first refusal of the group: the summary repeats its who/what. */
  readonly first: AuditRecord;
  readonly address: string;
  windowStartMs: number;
  /** Written whole in this window. */
  written: number;
  suppressed: number;
  lastError: string | undefined;
}

/** The source address of a gRPC peer string ("127.0.0.1:5000", "[::1]:5000", "::1:5000", "ipv4:..."): no port. */
export function peerAddress(peer: string): string {
  const p = peer.replace(/^(ipv4|ipv6):/, "");
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(p);
  if (bracketed) return bracketed[1]!;
  const m = /^(.*):\d+$/.exec(p);
  return m && m[1] !== "" ? m[1]! : p;
}

/** Digits vary between otherwise identical refusals ("retry in 0.3s"): they do not split a group. */
const reasonKey = (error: string | undefined) => (error ?? "").replace(/[0-9]+(\.[0-9]+)?/g, "#");

export function createRefusalLog(sink: AuditSink, opts: RefusalLogOptions = {}): RefusalLog {
  const windowMs = opts.windowMs ?? 1000;
  const maxGroups = opts.maxGroups ?? 1024;
  const wholePerWindow = opts.wholePerWindow ?? 3;
  const nowMs = opts.nowMs ?? (() => Date.now());
  const groups = new Map<string, Group>();

  const summary = (g: Group, now: number): AuditRecord => {
    const reason = `${g.first.outcome}${g.lastError !== undefined ? ` ${g.lastError}` : ""}`;
    const verb = g.first.outcome === "OK" ? "answered" : "refused";
    return {
      ...g.first,
      time: new Date(now).toISOString(),
      peer: g.address,
      error: `${verb} ${g.suppressed} calls from ${g.address}: ${reason}`,
      count: g.suppressed,
      bytes: null,
      durationMs: now - g.windowStartMs,
    };
  };

  const flush = (all = false) => {
    const now = nowMs();
    for (const [key, g] of groups) {
      if (!all && now - g.windowStartMs < windowMs) continue;
      if (g.suppressed === 0) {
        groups.delete(key);
        continue;
      }
      sink.write(summary(g, now));
      g.suppressed = 0;
      g.written = wholePerWindow; // a group still being flooded stays summarised
      g.windowStartMs = now;
    }
  };

  const useTimer = opts.timer !== false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  /** Arms the timer for the earliest window end of the groups held, unless armed already (it is then for that end or earlier). */
  const arm = () => {
    if (!useTimer || closed || timer !== undefined || groups.size === 0) return;
    let end = Infinity;
    for (const g of groups.values()) end = Math.min(end, g.windowStartMs + windowMs);
    // At least 1 ms: a timer may fire a little before the clock says the window is over; it then re-arms.
    timer = setTimeout(() => {
      timer = undefined;
      flush();
      arm();
    }, Math.max(1, end - nowMs()));
    timer.unref();
  };

  return {
    refused(record) {
      if (closed) {
        // Nothing left to aggregate into (the daemon is shutting down): written whole, never dropped.
        sink.write(record);
        return;
      }
      const now = nowMs();
      let address = peerAddress(record.peer);
      let key = [address, record.outcome, record.method, record.subject ?? "", reasonKey(record.error)].join("\u0000");
      let g = groups.get(key);
      if (g === undefined && groups.size >= maxGroups) {
        address = OVERFLOW_PEER;
        key = OVERFLOW_PEER;
        g = groups.get(key);
      }
      if (g === undefined) {
        g = { first: { ...record, peer: address }, address, windowStartMs: now, written: 0, suppressed: 0, lastError: record.error };
        groups.set(key, g);
        arm();
      }
      if (g.written < wholePerWindow) {
        g.written += 1;
        sink.write(record);
        return;
      }
      g.suppressed += 1;
      g.lastError = record.error;
    },
    flush,
    size: () => groups.size,
    close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      flush(true);
      groups.clear();
    },
  };
}
