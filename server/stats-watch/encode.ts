// The WatchStats reply's encoding, shared: the sampler hands one processes array to every watcher whose sample
// is the same (hub.ts deliver), and this encodes that array once per round instead of once per stream. Without
// it, 384 watchers of 120 processes cost ~0.4 s of gopsd's CPU per round in protobuf encoding alone.
// gopsd serves the Diagnostics definition with this encoder for WatchStats (server/gopsd.ts); the bytes are
// those of the generated encoder (the processes field last, as it writes them).
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { DiagnosticsServiceDefinition, ProcessStats, WatchStatsResponse } from "../../proto/index.js";

/** The encoded `processes` field (tag 5, repeated) of each processes array, while that array lives. */
const encoded = new WeakMap<readonly ProcessStats[], Uint8Array>();

/** WatchStatsResponse.encode, the processes part encoded once per array. */
export function encodeWatchStatsShared(message: WatchStatsResponse, writer: BinaryWriter = new BinaryWriter()): BinaryWriter {
  WatchStatsResponse.encode({ ...message, processes: [] }, writer);
  let body = encoded.get(message.processes);
  if (body === undefined) {
    const w = new BinaryWriter();
    for (const p of message.processes) ProcessStats.encode(p, w.uint32(42).fork()).join();
    body = w.finish();
    encoded.set(message.processes, body);
  }
  return writer.raw(body);
}

/**
 * The Diagnostics service definition with WatchStats replies encoded through encodeWatchStatsShared, as they are
 * (no fromPartial copy first: the sampler's messages are complete).
 */
export function withSharedWatchStatsEncoding(def: typeof DiagnosticsServiceDefinition): typeof DiagnosticsServiceDefinition {
  const responseType = { ...WatchStatsResponse, encode: encodeWatchStatsShared, fromPartial: undefined } as unknown as typeof WatchStatsResponse;
  return { ...def, methods: { ...def.methods, watchStats: { ...def.methods.watchStats, responseType } } };
}
