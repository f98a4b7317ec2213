// `pprof diff BASE NEW`: what changed between two profiles of one kind, as `go tool pprof -diff_base BASE NEW`
// sees it. The base's samples are negated and labelled pprof::base=true, then both are merged into one profile:
// the top table of that profile (top-functions.ts, which takes its percentages against the base's total when
// such labels are present, as pprof does) ranks growth (positive) and shrinkage (negative) by size, and the
// flame graph (flame-graph.ts, diff mode) draws each stack by the size of its change, coloured by its sign.
import { Label, Profile, Sample } from "pprof-format";
import { invalidArgument } from "../common/errors.js";
import { mergeProfiles } from "./merge-profiles.js";
import { DIFF_BASE_LABEL, sampleTypes, stringAt } from "./profile.js";

/** What kind of profile this is, by its period type (space/bytes: heap; cpu/nanoseconds: CPU), for messages. */
export function profileKind(profile: Profile): string {
  if (!profile.periodType) return "no period type";
  const type = stringAt(profile, profile.periodType.type);
  const unit = stringAt(profile, profile.periodType.unit);
  return `${type}/${unit}`;
}

const describeTypes = (p: Profile) => sampleTypes(p).map((t) => `${t.type}/${t.unit}`).join(", ");

/**
 * NEW minus BASE as one profile (base samples negated and labelled, as pprof's -diff_base does). Throws
 * INVALID_ARGUMENT when the two are of different kinds (period types) or have different sample types.
 */
export function diffProfiles(base: Profile, next: Profile): Profile {
  const baseKind = profileKind(base);
  const nextKind = profileKind(next);
  if (baseKind !== nextKind) {
    throw invalidArgument(`cannot diff profiles of different kinds: the base is ${baseKind}, the new one ${nextKind}`);
  }
  const baseTypes = describeTypes(base);
  const nextTypes = describeTypes(next);
  if (baseTypes !== nextTypes) {
    throw invalidArgument(`cannot diff profiles with different sample types: the base has [${baseTypes}], the new one [${nextTypes}]`);
  }
  // A copy of base with negated values and the label (its string table gains two strings; nothing else changes).
  const key = base.stringTable.dedup(DIFF_BASE_LABEL.key);
  const value = base.stringTable.dedup(DIFF_BASE_LABEL.value);
  const negated = new Profile({
    sampleType: base.sampleType,
    sample: base.sample.map(
      (s) =>
        new Sample({
          locationId: s.locationId,
          value: s.value.map((v) => -Number(v)),
          label: [...s.label, new Label({ key, str: value })],
        }),
    ),
    mapping: base.mapping,
    location: base.location,
    function: base.function,
    stringTable: base.stringTable,
    timeNanos: base.timeNanos,
    durationNanos: base.durationNanos,
    ...(base.periodType ? { periodType: base.periodType } : {}),
    period: base.period,
    defaultSampleType: base.defaultSampleType,
  });
  // The new profile first: its default sample type and period are the merged profile's.
  return mergeProfiles([next, negated]);
}
