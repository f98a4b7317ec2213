// The gops agent's signal bytes (docs/agent-protocol.md §2.2). One byte per connection; only SetGCPercent carries an
// argument (a signed varint). The values have not changed since 2017. Note 0x10 is hex 16, not decimal 10.

export const Signal = {
  StackTrace: 0x01,
  GC: 0x02,
  MemStats: 0x03,
  Version: 0x04,
  HeapProfile: 0x05,
  CPUProfile: 0x06,
  Stats: 0x07,
  Trace: 0x08,
  BinaryDump: 0x09,
  SetGCPercent: 0x10,
} as const;

export type SignalName = keyof typeof Signal;

export const signalNames = Object.freeze(Object.keys(Signal) as SignalName[]);

const nameByByte: ReadonlyMap<number, SignalName> = new Map(signalNames.map((n) => [Signal[n], n]));

/** The name of a known signal byte, or undefined for a byte the agent does not know. */
export function signalName(sig: number): SignalName | undefined {
  return nameByByte.get(sig);
}

/** True for the bytes the agent serves; any other byte gets an empty reply and EOF. */
export function isKnownSignal(sig: number): boolean {
  return signalName(sig) !== undefined;
}

/** A label for messages: `MemStats (0x03)`, or `signal 0x11` for an unknown byte. */
export function describeSignal(sig: number): string {
  const hex = `0x${sig.toString(16).padStart(2, "0")}`;
  const name = signalName(sig);
  return name === undefined ? `signal ${hex}` : `${name} (${hex})`;
}
