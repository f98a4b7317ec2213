// Incident capture's settings (gopsd config keys capture.*) and their defaults.
import type { CaptureRule } from "./rules.js";

export interface CaptureSettings {
  /** The store's directory (created 0700 by gopsd). */
  readonly dir: string;
  readonly rules: readonly CaptureRule[];
  /** How often rules are evaluated: the interval of the engine's subscription to the shared sampler. */
  readonly intervalMs: number;
  /** Per process and rule: no second capture for this long after one started. */
  readonly cooldownMs: number;
  /** Captures started per rolling minute on the host, all rules together. */
  readonly maxPerMinute: number;
  /** The store's caps: total bytes, number of captures, age. The oldest go first. */
  readonly maxBytes: number;
  readonly maxCount: number;
  readonly maxAgeMs: number;
}

export const DEFAULT_CAPTURE_SETTINGS = Object.freeze({
  intervalMs: 5_000,
  cooldownMs: 10 * 60_000,
  maxPerMinute: 6,
  maxBytes: 1024 * 1024 * 1024,
  maxCount: 200,
  maxAgeMs: 7 * 24 * 3600_000,
});
