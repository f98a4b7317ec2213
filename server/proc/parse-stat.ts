// /proc/PID/stat. comm may hold spaces and ')' (it is whatever the program set), so the fields after it are
// found from the LAST ')'.

export interface ProcStat {
  pid: number;
  comm: string;
  /** One letter: R, S, D, Z, T, t, X, I, ... */
  state: string;
  ppid: number;
  flags: number;
  /** CPU time in clock ticks. */
  utime: number;
  stime: number;
  numThreads: number;
  /** Start time in clock ticks after boot. */
  starttime: number;
  /** Resident set size in pages. */
  rssPages: number;
  /** Virtual memory size in bytes. */
  vsizeBytes: number;
}

/** PF_KTHREAD in include/linux/sched.h. */
const PF_KTHREAD = 0x00200000;

export function parseStat(text: string): ProcStat {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 1 || close < open) throw new Error(`malformed /proc/PID/stat: ${JSON.stringify(text.slice(0, 80))}`);
  // Fields 3..24 of proc(5) (state .. rss): f[0] is field 3. The ~30 fields after rss are not split.
  const f: string[] = [];
  let at = close + 2;
  while (f.length < 22) {
    const sp = text.indexOf(" ", at);
    if (sp < 0) throw new Error(`malformed /proc/PID/stat: only ${f.length + 2} fields`);
    f.push(text.slice(at, sp));
    at = sp + 1;
  }
  const num = (i: number): number => {
    const v = Number(f[i]);
    if (!Number.isFinite(v) || f[i] === "") {
      throw new Error(`malformed /proc/PID/stat: field ${i + 3} is ${JSON.stringify(f[i])}`);
    }
    return v;
  };
  return {
    pid: Number(text.slice(0, open - 1)),
    comm: text.slice(open + 1, close),
    state: f[0]!,
    ppid: num(1),
    flags: num(6),
    utime: num(11),
    stime: num(12),
    numThreads: num(17),
    starttime: num(19),
    vsizeBytes: num(20),
    rssPages: num(21),
  };
}

export function isKernelThread(stat: ProcStat): boolean {
  // flags is an unsigned 32-bit value; bit tests on numbers above 2^31 need the >>> 0.
  return ((stat.flags >>> 0) & PF_KTHREAD) !== 0;
}

/** A zombie ("Z") or dead ("X") task: it has exited and only waits to be reaped. */
export function hasExited(stat: ProcStat): boolean {
  return stat.state === "Z" || stat.state === "X";
}
