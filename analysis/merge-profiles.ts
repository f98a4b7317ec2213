// `--merge`: several profiles of one kind (e.g. the same capture from many hosts) as one profile whose
// values are summed per stack. Stacks are compared by function names, files and lines, never by addresses,
// so the same code built into different binaries merges.
import {
  Function as PprofFunction,
  Label,
  Line,
  Location,
  Profile,
  Sample,
  StringTable,
  ValueType,
} from "pprof-format";
import { invalidArgument } from "../common/errors.js";
import { sampleTypes, stringAt } from "./profile.js";

/**
 * Merges profiles with the same sample types (same names and units, same order): samples with the same
 * stack and labels are summed, durations are summed, the start time is the earliest. Throws
 * INVALID_ARGUMENT when the list is empty or the sample types differ.
 */
export function mergeProfiles(profiles: readonly Profile[]): Profile {
  if (profiles.length === 0) throw invalidArgument("nothing to merge: no profiles given");
  const first = profiles[0]!;
  const want = describeTypes(first);
  profiles.forEach((p, i) => {
    const got = describeTypes(p);
    if (got !== want) {
      throw invalidArgument(
        `cannot merge profiles with different sample types: profile 1 has [${want}], profile ${i + 1} has [${got}]`,
      );
    }
  });

  const strings = new StringTable();
  const functionIds = new Map<string, number>();
  const functions: PprofFunction[] = [];
  const locationIds = new Map<string, number>();
  const locations: Location[] = [];
  const samples = new Map<string, Sample>();
  let durationNanos = 0;
  let timeNanos = 0;

  for (const profile of profiles) {
    const str = (index: number | bigint) => strings.dedup(stringAt(profile, index));
    const fnMap = new Map<number, number>();
    for (const fn of profile.function) {
      const name = stringAt(profile, fn.name);
      const systemName = stringAt(profile, fn.systemName);
      const filename = stringAt(profile, fn.filename);
      const key = `${name}\0${systemName}\0${filename}\0${fn.startLine}`;
      let id = functionIds.get(key);
      if (id === undefined) {
        id = functions.length + 1;
        functionIds.set(key, id);
        functions.push(
          new PprofFunction({
            id,
            name: strings.dedup(name),
            systemName: strings.dedup(systemName),
            filename: strings.dedup(filename),
            startLine: fn.startLine,
          }),
        );
      }
      fnMap.set(Number(fn.id), id);
    }
    const locMap = new Map<number, number>();
    for (const loc of profile.location) {
      const lines = loc.line.map((l) => ({ functionId: fnMap.get(Number(l.functionId)) ?? 0, line: Number(l.line) }));
      // Without line information only the address identifies a location.
      const key = lines.length > 0 ? lines.map((l) => `${l.functionId}:${l.line}`).join(";") : `@${loc.address}`;
      let id = locationIds.get(key);
      if (id === undefined) {
        id = locations.length + 1;
        locationIds.set(key, id);
        locations.push(
          new Location({
            id,
            address: lines.length > 0 ? 0 : loc.address,
            line: lines.map((l) => new Line({ functionId: l.functionId, line: l.line })),
          }),
        );
      }
      locMap.set(Number(loc.id), id);
    }
    for (const sample of profile.sample) {
      const stack = sample.locationId.map((id) => {
        const mapped = locMap.get(Number(id));
        if (mapped === undefined) throw invalidArgument(`malformed pprof profile: a sample refers to missing location ${id}`);
        return mapped;
      });
      const labels = sample.label.map(
        (l) =>
          new Label({ key: str(l.key), str: str(l.str), num: l.num, numUnit: str(l.numUnit) }),
      );
      const key = `${stack.join(",")}|${labels
        .map((l) => `${l.key}=${l.str}/${l.num}/${l.numUnit}`)
        .sort()
        .join(",")}`;
      const existing = samples.get(key);
      if (existing) {
        existing.value = existing.value.map((v, i) => Number(v) + Number(sample.value[i]));
      } else {
        samples.set(key, new Sample({ locationId: stack, value: sample.value.map(Number), label: labels }));
      }
    }
    durationNanos += Number(profile.durationNanos);
    const t = Number(profile.timeNanos);
    if (t > 0 && (timeNanos === 0 || t < timeNanos)) timeNanos = t;
  }

  const valueType = (profile: Profile, t: ValueType) =>
    new ValueType({ type: strings.dedup(stringAt(profile, t.type)), unit: strings.dedup(stringAt(profile, t.unit)) });
  const defaultType = stringAt(first, first.defaultSampleType);
  return new Profile({
    sampleType: first.sampleType.map((t) => valueType(first, t)),
    sample: [...samples.values()],
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos,
    durationNanos,
    ...(first.periodType ? { periodType: valueType(first, first.periodType) } : {}),
    period: first.period,
    defaultSampleType: defaultType === "" ? 0 : strings.dedup(defaultType),
  });
}

function describeTypes(profile: Profile): string {
  return sampleTypes(profile)
    .map((t) => `${t.type}/${t.unit}`)
    .join(", ");
}
