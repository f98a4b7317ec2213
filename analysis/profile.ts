// Decoding pprof profiles (gzip or raw protobuf) with pprof-format, and the views of a profile the reports
// share: sample types, the chosen sample index, and each location's frames.
import { Profile } from "pprof-format";
import { invalidArgument } from "../common/errors.js";

/** node:zlib when a profile is first read or written (it costs every gopsctl start ~6 ms of CPU otherwise). */
const zlib = () => process.getBuiltinModule("node:zlib");

export { Profile };

export interface SampleType {
  type: string;
  unit: string;
}

/** One function call in a stack: a Line of a Location (inlined calls are frames of their own). */
export interface Frame {
  name: string;
  file: string;
  line: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * The most bytes a profile may have as protobuf, decompressed or not (docs/HOSTILE.md). Go's own profiles of
 * large services are a few MiB; a gzip "bomb" (1 MiB that expands to 1 GiB) stops here, with memory bounded:
 * zlib stops inflating once its output passes the limit.
 */
export const PROFILE_MAX_BYTES = 128 << 20;

/** Decodes a pprof profile as the agent or `go tool pprof -proto` writes it: gzip-compressed or raw. */
export function decodeProfile(bytes: Buffer | Uint8Array): Profile {
  if (bytes.length === 0) throw invalidArgument("not a pprof profile: the input is empty");
  const tooLarge = (what: string) =>
    invalidArgument(`not a pprof profile: ${what} more than ${PROFILE_MAX_BYTES >> 20} MiB (the limit for a profile)`);
  let raw: Uint8Array = bytes;
  if (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      raw = zlib().gunzipSync(bytes, { maxOutputLength: PROFILE_MAX_BYTES });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge("it decompresses to");
      throw invalidArgument(`not a pprof profile: gzip data is corrupt (${(error as Error).message})`);
    }
  } else if (bytes.length > PROFILE_MAX_BYTES) {
    throw tooLarge("it has");
  }
  let profile: Profile;
  try {
    profile = Profile.decode(raw);
  } catch (error) {
    throw invalidArgument(`not a pprof profile: ${(error as Error).message}`);
  }
  if (profile.sampleType.length === 0) throw invalidArgument("not a pprof profile: it declares no sample types");
  for (const sample of profile.sample) {
    if (sample.value.length !== profile.sampleType.length) {
      throw invalidArgument(
        `malformed pprof profile: a sample has ${sample.value.length} values for ${profile.sampleType.length} sample types`,
      );
    }
  }
  return profile;
}

/** The string-table entry `index` of `profile` ("" for 0 or out of range). */
export function stringAt(profile: Profile, index: number | bigint): string {
  return profile.stringTable.strings[Number(index)] ?? "";
}

/** The profile's sample types in order, e.g. `[{type: "samples", unit: "count"}, {type: "cpu", unit: "nanoseconds"}]`. */
export function sampleTypes(profile: Profile): SampleType[] {
  return profile.sampleType.map((t) => ({ type: stringAt(profile, t.type), unit: stringAt(profile, t.unit) }));
}

/**
 * The index of the sample value to report, like pprof's `-sample_index`: a number, a type name
 * (`inuse_space`, `alloc_objects`, `cpu`, `samples`, ...; an `inuse_` prefix may be left off), or by default
 * the profile's default sample type, else the last one (inuse_space for heap, cpu for CPU profiles).
 */
export function resolveSampleIndex(profile: Profile, sampleIndex?: string | number): number {
  const types = sampleTypes(profile);
  const names = types.map((t) => t.type);
  if (sampleIndex === undefined || sampleIndex === "") {
    const preferred = stringAt(profile, profile.defaultSampleType);
    const found = preferred === "" ? -1 : names.indexOf(preferred);
    return found >= 0 ? found : types.length - 1;
  }
  const asNumber = typeof sampleIndex === "number" ? sampleIndex : /^\d+$/.test(sampleIndex) ? Number(sampleIndex) : NaN;
  if (!Number.isNaN(asNumber)) {
    if (!Number.isInteger(asNumber) || asNumber < 0 || asNumber >= types.length) {
      throw invalidArgument(`sample index ${sampleIndex} is outside the range [0..${types.length - 1}]`);
    }
    return asNumber;
  }
  const name = String(sampleIndex);
  const withoutInuse = name.startsWith("inuse_") ? name.slice("inuse_".length) : name;
  const found = names.findIndex((n) => n === name || n === withoutInuse);
  if (found < 0) throw invalidArgument(`sample index "${name}" must be one of: ${names.join(", ")}`);
  return found;
}

/**
 * Each location's frames, innermost first (the order of Location.line: an inlined callee before the
 * function it was inlined into). A location without line information is one frame named by its address.
 */
export function locationFrames(profile: Profile): Map<number, Frame[]> {
  const functions = new Map<number, { name: string; file: string }>();
  for (const fn of profile.function) {
    functions.set(Number(fn.id), { name: stringAt(profile, fn.name), file: stringAt(profile, fn.filename) });
  }
  const frames = new Map<number, Frame[]>();
  for (const location of profile.location) {
    const list: Frame[] = location.line.map((line) => {
      const fn = functions.get(Number(line.functionId));
      return { name: fn?.name || "<unknown>", file: fn?.file ?? "", line: Number(line.line) };
    });
    if (list.length === 0) {
      const address = BigInt(location.address);
      list.push({ name: address === 0n ? "<unknown>" : address.toString(16).padStart(16, "0"), file: "", line: 0 });
    }
    frames.set(Number(location.id), list);
  }
  return frames;
}

/** One call on a sample's stack: a frame's function, and whether it was inlined into the next frame out. */
export interface Call {
  name: string;
  /** Not its location's outermost line: the compiler inlined it into the function of the line after it. */
  inlined: boolean;
}

/**
 * A sample's calls from the outermost (the root) to the leaf, inlined frames included, from the sample's
 * locations (leaf first, each location's lines innermost first); unknown location ids are an error.
 */
export function callPath(frames: Map<number, Frame[]>, locationIds: ReadonlyArray<number | bigint>): Call[] {
  const calls: Call[] = [];
  for (let i = locationIds.length - 1; i >= 0; i--) {
    const lines = frames.get(Number(locationIds[i]));
    if (!lines) throw invalidArgument(`malformed pprof profile: a sample refers to missing location ${locationIds[i]}`);
    for (let j = lines.length - 1; j >= 0; j--) calls.push({ name: lines[j]!.name, inlined: j !== lines.length - 1 });
  }
  return calls;
}

/** The label pprof's -diff_base puts on the base's (negated) samples (profile.Sample.DiffBaseSample). */
export const DIFF_BASE_LABEL = { key: "pprof::base", value: "true" } as const;

/** Whether a sample of profile comes from a diff's base (profile-diff.ts). */
export function isDiffBaseSample(profile: Profile, sample: Profile["sample"][number]): boolean {
  return sample.label.some((l) => stringAt(profile, l.key) === DIFF_BASE_LABEL.key && stringAt(profile, l.str) === DIFF_BASE_LABEL.value);
}

/** The gzip-compressed protobuf of `profile`, as `go tool pprof` reads it (e.g. a merged profile). */
export function encodeProfile(profile: Profile): Buffer {
  return zlib().gzipSync(profile.encode());
}
