// `fleetstat up`: a collector with its HTTP API and metrics, and this machine's agent (every
// network namespace) publishing to it in memory. Prints where the API is, then the HTTP table
// each interval.

import { setTimeout as sleep } from 'node:timers/promises';
import { AgentRunner } from '../../agent/agent-runner.js';
import { httpCountLines } from '../../agent/netstat/http-count-report.js';
import { MemoryPublisher } from '../../agent/publish/memory-publisher.js';
import { Collector } from '../../collector/collector.js';
import { SurgeDetector } from '../../collector/alerts/surge-detector.js';
import { LocalDetailClient } from '../../collector/detail/local-detail-client.js';
import { agentConfigOf, samplerFor } from '../agent-options.js';
import { formatHostPort } from '../../agent/grpc/host-port.js';
import { cliLogger } from '../logger.js';
import { openHistory } from '../history-options.js';
import { thresholdsOf } from '../alert-options.js';
import { VERSION } from '../version.js';
import { writeOut } from '../write-out.js';
import { BearerAuth } from '../../collector/api/bearer-auth.js';
import { apiTokenOf } from '../api-token.js';
import { httpTlsOf } from '../tls-options.js';
import type { UpFlags } from './up.js';

export async function runUp(flags: UpFlags): Promise<void> {
  const config = agentConfigOf(flags);
  // A person watches this terminal: only warnings and errors go to stderr by default.
  const logger = cliLogger('fleetstat-up', 'warn');
  const token = apiTokenOf(flags);
  const tls = httpTlsOf(flags);
  const sampler = samplerFor(config);
  const history = await openHistory(flags, logger);
  const collector = new Collector({
    cluster: config.cluster,
    logger,
    detail: new LocalDetailClient(config.node, sampler),
    ...(token ? { auth: new BearerAuth(token) } : {}),
    ...(tls ? { tls } : {}),
    ...(flags.alerts ? { alerts: new SurgeDetector({ thresholds: thresholdsOf(flags) }), alertsEveryMs: flags.alertEvery ?? config.intervalMs } : {}),
    ...(history ? { history, historyEveryMs: Math.min(config.intervalMs, 10_000) } : {}),
  });
  const publisher = new MemoryPublisher((bytes, node) => collector.state.ingest(bytes, { transport: 'memory', claimedNode: node }));
  // The first sample right away: a person is waiting for it.
  const runner = new AgentRunner({ config, sampler, publisher, logger, version: VERSION, random: () => 0 });
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    const address = await collector.start(flags.listen.host, flags.listen.port);
    const base = `${collector.http.server.scheme}://${formatHostPort(address.address, address.port)}`;
    // How the CLI reaches this API: the same token file (never the token) and, for HTTPS, a CA to trust.
    const access = `${flags.apiTokenFile ? ` --api-token-file ${flags.apiTokenFile}` : ''}${tls ? ' --ca <CA of --tls-cert>' : ''}`;
    await runner.start();
    await writeOut(
      `fleetstat up: node ${config.node}, every ${config.intervalMs} ms, netns ${config.netns}, HTTP ports ${config.httpPorts.join(',')}\n` +
        `  API      ${base}/api/v1/summary  ${base}/api/v1/nodes  ${base}/api/v1/connections?port=80\n` +
        `  metrics  ${base}/metrics\n` +
        `  CLI      fleetstat top --collector ${base}${access}   fleetstat connections --collector ${base}${access} --port 80\n`,
    );
    for (let n = 0; !stop.signal.aborted && (flags.count === undefined || n < flags.count); n++) {
      await waitForSample(runner, n + 1, config.intervalMs * 3, stop.signal);
      const record = collector.state.registry.get(config.node);
      if (stop.signal.aborted || !record) continue;
      await writeOut(`\n${new Date().toISOString()}\n${httpCountLines(record.snapshot.namespaces).join('\n')}\n`);
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await runner.stop();
    await collector.stop();
    await sampler.close();
  }
}

/** Wait until the runner has published `n` samples (or the time or the signal runs out). */
async function waitForSample(runner: AgentRunner, n: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (runner.counters.samples + runner.counters.sampleErrors < n && Date.now() < deadline && !signal.aborted) {
    await sleep(50, undefined, { signal }).catch(() => undefined);
  }
}
