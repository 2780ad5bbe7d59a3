// Durations as flags and query strings take them: "500ms", "1s", "2m", "1h", "1m30s".

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number {
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)/g) : null;
  if (!parts) throw new Error(`invalid duration "${text}": use forms like 500ms, 10s, 2m, 1h`);
  let ms = 0;
  for (const part of parts) {
    const unit = /[a-z]+$/.exec(part)?.[0] ?? '';
    ms += Number(part.slice(0, part.length - unit.length)) * (UNIT_MS[unit] ?? 0);
  }
  // Past 2^53 ms (285,000 years) sums and comparisons go wrong, and enough digits make Infinity.
  if (!Number.isSafeInteger(Math.round(ms))) throw new Error(`duration "${text.slice(0, 40)}" is too long`);
  return Math.round(ms);
}

/** A parser for a duration flag that must lie in [minMs, maxMs] (so `0s` or `100y` fail at start-up). */
export function durationBetween(minMs: number, maxMs: number, minText: string, maxText: string): (text: string) => number {
  return (text) => {
    const ms = parseDuration(text);
    if (ms < minMs || ms > maxMs) throw new Error(`"${text}": expected between ${minText} and ${maxText}`);
    return ms;
  };
}
