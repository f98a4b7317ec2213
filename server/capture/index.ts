// Incident capture: rules (rules.ts) evaluated on the shared sampler (evaluate.ts, engine.ts), captures kept in a
// bounded store (store.ts) and served by three RPCs (service.ts).
import type { AuditRecord } from "../auth/audit.js";
import { CaptureEngine, type CaptureCore } from "./engine.js";
import { captureService, type CaptureService } from "./service.js";
import type { CaptureSettings } from "./settings.js";
import { CaptureStore } from "./store.js";

export { CaptureEngine, CaptureStore, captureService, type CaptureService, type CaptureSettings };
export { DEFAULT_CAPTURE_SETTINGS } from "./settings.js";

export interface RunningCapture {
  service: CaptureService;
  stop(): Promise<void>;
}

/** Opens the store and, when there are rules, subscribes the engine to the sampler; without settings, no store. */
export async function startCapture(
  settings: CaptureSettings | undefined,
  deps: { host: string; core: CaptureCore; audit(r: AuditRecord): void; log(msg: string): void },
): Promise<RunningCapture> {
  if (settings === undefined) return { service: captureService(deps.host, undefined), stop: async () => {} };
  const store = await CaptureStore.open(settings.dir, { maxBytes: settings.maxBytes, maxCount: settings.maxCount, maxAgeMs: settings.maxAgeMs }, { log: deps.log });
  const engine = new CaptureEngine({ host: deps.host, core: deps.core, store, settings, audit: deps.audit, log: deps.log });
  engine.start();
  return { service: captureService(deps.host, store), stop: () => engine.stop() };
}
