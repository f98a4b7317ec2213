// Small pprof profiles written from readable stacks, for unit tests of the reports (the end-to-end tests
// use real profiles from the Go fixtures).
import { Function as PprofFunction, Line, Location, Mapping, Profile, Sample, StringTable, ValueType } from "pprof-format";

/** One location: a function name, or several (innermost first) when calls were inlined into it. */
export type FakeLocation = string | string[];

export interface FakeProfileSpec {
  /** [type, unit] pairs, e.g. [["samples", "count"], ["cpu", "nanoseconds"]]. */
  sampleTypes: [string, string][];
  /** Stacks leaf first. */
  samples: { stack: FakeLocation[]; values: number[]; labels?: Record<string, string> }[];
  durationNanos?: number;
  defaultSampleType?: string;
  /** [type, unit] of the profile's period (its kind: ["space", "bytes"] for heap, ["cpu", "nanoseconds"] for CPU). */
  periodType?: [string, string];
  /** Added to every location address, to fake another build of the same code. */
  addressBase?: number;
}

export function fakeProfile(spec: FakeProfileSpec): Profile {
  const strings = new StringTable();
  const functions = new Map<string, PprofFunction>();
  const locations = new Map<string, Location>();
  const functionOf = (name: string) => {
    let fn = functions.get(name);
    if (!fn) {
      fn = new PprofFunction({
        id: functions.size + 1,
        name: strings.dedup(name),
        systemName: strings.dedup(name),
        filename: strings.dedup(`/src/${name.split(".")[0]}.go`),
      });
      functions.set(name, fn);
    }
    return fn;
  };
  const locationOf = (loc: FakeLocation) => {
    const lines = typeof loc === "string" ? [loc] : loc;
    const key = lines.join("|");
    let location = locations.get(key);
    if (!location) {
      const id = locations.size + 1;
      location = new Location({
        id,
        mappingId: 1,
        address: (spec.addressBase ?? 0x400000) + id * 16,
        line: lines.map((name, i) => new Line({ functionId: functionOf(name).id, line: 10 + i })),
      });
      locations.set(key, location);
    }
    return location;
  };
  const samples = spec.samples.map(
    (s) =>
      new Sample({
        locationId: s.stack.map((l) => locationOf(l).id),
        value: s.values,
        label: Object.entries(s.labels ?? {}).map(([k, v]) => ({ key: strings.dedup(k), str: strings.dedup(v) })),
      }),
  );
  return new Profile({
    sampleType: spec.sampleTypes.map(([type, unit]) => new ValueType({ type: strings.dedup(type), unit: strings.dedup(unit) })),
    sample: samples,
    mapping: [new Mapping({ id: 1, memoryStart: 0x400000, memoryLimit: 0x800000, filename: strings.dedup("/bin/app"), hasFunctions: true })],
    location: [...locations.values()],
    function: [...functions.values()],
    stringTable: strings,
    durationNanos: spec.durationNanos ?? 0,
    defaultSampleType: spec.defaultSampleType ? strings.dedup(spec.defaultSampleType) : 0,
    ...(spec.periodType ? { periodType: new ValueType({ type: strings.dedup(spec.periodType[0]), unit: strings.dedup(spec.periodType[1]) }) } : {}),
  });
}
