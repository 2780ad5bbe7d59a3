// <proc>/<pid>/stat: "pid (comm) state ppid ... starttime ...", one line, fields split by one space.
// comm is whatever the process named itself (prctl PR_SET_NAME, up to 15 bytes): spaces and ')'
// included, so fields are counted from the LAST ')', never by splitting the whole line.

/**
 * Field 22, the start time in clock ticks after boot, exactly as printed (a string, so no u64
 * precision is lost). A pid and this value name one process for the life of the kernel, which is
 * what tells a reused pid apart. Undefined for anything that is not a stat line.
 */
export function startTimeOf(statText: string): string | undefined {
  const close = statText.lastIndexOf(')');
  if (close < 0) return undefined;
  // fields[0] is field 3 (state), so field 22 is fields[19].
  const start = statText.slice(close + 1).trim().split(' ')[19];
  return start !== undefined && /^\d{1,20}$/.test(start) ? start : undefined;
}
