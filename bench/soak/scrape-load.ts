// Queries while the fleet publishes, as a Prometheus server and a dashboard make them: /metrics
// and /api/v1/summary every `everyMs`, skipped while an exactness check runs. Their time in the
// collector is time its ingest waits, which is what the stale audit must survive.

export interface ScrapeStats {
  scrapes: number;
  failures: number;
  maxMs: number;
  totalMs: number;
}

export function startScrapeLoad(base: string, everyMs: number, paused: () => boolean): { stats: ScrapeStats; stop(): void } {
  const stats: ScrapeStats = { scrapes: 0, failures: 0, maxMs: 0, totalMs: 0 };
  let busy = false;
  const timer = setInterval(() => {
    if (busy || paused()) return;
    busy = true;
    const started = Date.now();
    Promise.all(['/metrics', '/api/v1/summary'].map(async (path) => (await fetch(`${base}${path}`, { signal: AbortSignal.timeout(60_000) })).text()))
      .then(() => {
        const ms = Date.now() - started;
        stats.scrapes++;
        stats.totalMs += ms;
        stats.maxMs = Math.max(stats.maxMs, ms);
      })
      .catch(() => stats.failures++)
      .finally(() => (busy = false));
  }, everyMs);
  return { stats, stop: () => clearInterval(timer) };
}
