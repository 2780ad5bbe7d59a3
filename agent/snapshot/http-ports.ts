// Which ports count as HTTP (--http-ports).

export const DEFAULT_HTTP_PORTS: readonly number[] = [80, 443, 8080, 8443];

/** "80,443,8000-8010" to a sorted list; throws a message naming the bad part. */
export function parsePortList(text: string): number[] {
  const ports = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const range = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const low = Number(range?.[1]);
    const high = Number(range?.[2] ?? range?.[1]);
    if (!range || low < 1 || high > 65535 || low > high) {
      throw new Error(`invalid port or range "${part}": expected 1-65535 or LOW-HIGH`);
    }
    if (high - low > 4096) throw new Error(`port range "${part}" is wider than 4096 ports`);
    for (let port = low; port <= high; port++) ports.add(port);
  }
  if (ports.size === 0) throw new Error('no HTTP ports given');
  return [...ports].sort((a, b) => a - b);
}
