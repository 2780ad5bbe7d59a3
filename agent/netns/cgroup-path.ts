// The cgroup path of a process from <proc>/<pid>/cgroup ("hierarchy-ID:controllers:path" lines):
// the unified (v2) hierarchy when present, else the first v1 hierarchy that names a path.

export function cgroupPathOf(text: string): string {
  let fallback = '';
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const path = line.slice(second + 1);
    if (line.slice(0, second) === '0:') return path;
    if (fallback === '' && path !== '/') fallback = path;
  }
  return fallback === '' ? '/' : fallback;
}
