// Helpers for the configuration schemas (valibot) of gopsd's config file, the fleet file and gopsctl's config file:
// YAML/JSON mappings, and the dotted key an issue is about, so each file's one-line errors name the key.
import * as v from "valibot";

type Schema = v.GenericSchema<unknown, unknown>;

/** A plain mapping from YAML or JSON (not a list, not null). */
export const isMapping = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && Object.getPrototypeOf(x) === Object.prototype;

/**
 * A mapping with these keys: other keys are refused (an issue whose key is the unknown one), or, with `rest`, checked
 * by it. valibot's object schemas take any object, lists included; this one takes mappings only.
 */
export function mapping<F extends Record<string, Schema>>(fields: F, message: string): v.GenericSchema<unknown, v.InferOutput<v.StrictObjectSchema<F, undefined>>>;
export function mapping(fields: Record<string, Schema>, message: string, rest: Schema): v.GenericSchema<unknown, Record<string, unknown>>;
export function mapping(fields: Record<string, Schema>, message: string, rest?: Schema): Schema {
  const base = rest ? v.objectWithRest(fields, rest, message) : v.strictObject(fields, message);
  return v.pipe(v.custom<Record<string, unknown>>(isMapping, message), base);
}

/**
 * The key an issue is about, dotted ("auth.publicKeyFiles"; an item of a list names its list), and whether the
 * issue is that this key is unknown.
 */
export function issueKey(issue: v.BaseIssue<unknown>): { key: string; unknownKey: boolean } {
  const path = issue.path ?? [];
  const end = path.findIndex((p) => p.type === "array");
  const keys = (end < 0 ? path : path.slice(0, end)).map((p) => String(p.key));
  return { key: keys.join("."), unknownKey: end < 0 && path.at(-1)?.origin === "key" };
}
