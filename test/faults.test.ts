// Faults on one live fleet of real processes (fault-fleet.ts): nats-server SIGKILLed and
// restarted, collectors restarted with and without JetStream, an agent restarted, a node's
// link cut, an agent clock 30 s off both ways, a collector too slow for the server. Every fault
// changes some connection counts while it lasts, so "exact after healing" means fresh data
// arrived. After each one heals, both collectors must equal `ss` in every namespace within 2
// intervals, the cluster total must be the sum of ss (nothing double counted), every received
// snapshot must be accepted or rejected by a counted reason, and no node whose agent and link
// were fine may show stale. "Healed" is when the broken part works again: a restarted process
// once it logs that it started (its start-up time is reported, not asserted: on a loaded
// 2-core machine it varies from 1 to 6 s); a restarted nats-server or a collector the server
// cut off, once the server is back, plus the clients' fixed reconnect backoff. What each
// fault cost goes to test/artifacts/faults.json.
import { connect } from '@nats-io/transport-node';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CollectorName, FleetNode, IngestFigures } from './support/fault-fleet.js';
import { CLUSTER, FaultFleet, INTERVAL_MS } from './support/fault-fleet.js';
import type { StalePeriod } from './support/node-status-watch.js';
import { NodeStatusWatch } from './support/node-status-watch.js';
import type { ProcUsage } from './support/proc-usage.js';
import { procUsage } from './support/proc-usage.js';

const run = promisify(execFile);
const ARTIFACT = new URL('./artifacts/faults.json', import.meta.url);
/** The NATS clients' reconnect backoff as shipped: 2 s plus up to 1 s of jitter. */
const RECONNECT_ALLOWANCE_MS = 3000;
/**
 * The agent's time limit for a JetStream acknowledgement: after a server lost its store, the
 * first JetStream publish may wait this long while the collector makes the stream again.
 */
const JETSTREAM_ACK_ALLOWANCE_MS = 5000;
const COLLECTORS = ['core', 'js'] as const;

/** One exactness poll: ss in three namespaces, two HTTP requests per collector. */
const POLL_ALLOWANCE_MS = 500;
/** A silence this much past 3 intervals must have shown stale: the sweep runs every second, the watch polls every 100 ms. */
const STALE_NOTICE_MS = 1300;

interface FaultRecord {
  fault: string;
  /** From heal to each collector exact, ms. */
  healToExactMs: Record<CollectorName, number>;
  deadlineMs: number;
  /** Longest time each collector heard nothing from each node while the fault lasted, ms. */
  silenceMs: Record<CollectorName, Record<string, number>>;
  /** Snapshots each collector never accepted, per node (gaps in seq within a run). */
  missed: Record<CollectorName, Record<string, number>>;
  /** Stale periods, ms relative to the heal. */
  stale: Record<CollectorName, StalePeriod[]>;
  ingest: Record<CollectorName, { before: IngestFigures; after: IngestFigures }>;
  notes: Record<string, unknown>;
}

interface Heal {
  healedAtMs: number;
  allowanceMs: number;
  notes?: Record<string, unknown>;
}

describe('faults: a live fleet heals to exact counts', () => {
  let fleet: FaultFleet;
  const watches = new Map<CollectorName, NodeStatusWatch>();
  const records: FaultRecord[] = [];
  const usage: { process: string; pid: number; before: ProcUsage; after?: ProcUsage }[] = [];

  const ingestBoth = async () => ({ core: await fleet.ingestFigures('core'), js: await fleet.ingestFigures('js') });

  /**
   * Runs one fault: `act` breaks something, changes counts, heals it and says when. Then both
   * collectors must be exact by heal + 2 intervals + allowance. A node in `silenced` (its agent
   * or link taken away) may show stale exactly when the collector heard nothing from it for
   * more than 3 intervals, and must once that silence is clearly longer; every other node
   * must never show stale.
   */
  async function fault(name: string, silenced: string[], act: () => Promise<Heal>): Promise<FaultRecord> {
    const before = await ingestBoth();
    const startedAt = Date.now();
    const heal = await act();
    const deadline = heal.healedAtMs + 2 * INTERVAL_MS + heal.allowanceMs + POLL_ALLOWANCE_MS;
    const healToExactMs = await fleet.untilExact(heal.healedAtMs, deadline);
    const exactAt = Date.now();
    for (const w of watches.values()) await w.sampledAfter(exactAt);
    const after = await ingestBoth();
    const relative = (p: StalePeriod): StalePeriod => ({ ...p, fromMs: p.fromMs - heal.healedAtMs, toMs: p.toMs === undefined ? undefined : p.toMs - heal.healedAtMs });
    const stale = { core: watches.get('core')!.staleBetween(startedAt), js: watches.get('js')!.staleBetween(startedAt) };
    const missed = (c: CollectorName) => Object.fromEntries(fleet.nodes.map((n) => [n.name, watches.get(c)!.missedSnapshots(n.name, startedAt)]));
    const silence = (c: CollectorName) => Object.fromEntries(fleet.nodes.map((n) => [n.name, watches.get(c)!.longestSilence(n.name, startedAt)]));
    const record: FaultRecord = {
      fault: name,
      healToExactMs,
      deadlineMs: deadline - heal.healedAtMs,
      silenceMs: { core: silence('core'), js: silence('js') },
      missed: { core: missed('core'), js: missed('js') },
      stale: { core: stale.core.map(relative), js: stale.js.map(relative) },
      ingest: { core: { before: before.core, after: after.core }, js: { before: before.js, after: after.js } },
      notes: heal.notes ?? {},
    };
    records.push(record);
    console.log(`fault ${name}: exact ${JSON.stringify(healToExactMs)} ms after heal (deadline ${record.deadlineMs} ms); silence ${JSON.stringify(record.silenceMs)}; missed ${JSON.stringify(record.missed)}; stale ${JSON.stringify(record.stale)}`);
    for (const c of COLLECTORS) {
      const falselyStale = stale[c].filter((p) => !silenced.includes(p.node));
      expect(falselyStale, `${c} collector: nodes shown stale whose agent and link were fine`).toEqual([]);
      for (const node of silenced) {
        const wasStale = stale[c].some((p) => p.node === node);
        const silentMs = record.silenceMs[c][node]!;
        if (wasStale) expect(silentMs, `${c}: ${node} shown stale after a silence of only`).toBeGreaterThan(3 * INTERVAL_MS);
        if (silentMs > 3 * INTERVAL_MS + STALE_NOTICE_MS) expect(wasStale, `${c}: ${node} silent ${silentMs} ms but never stale`).toBe(true);
      }
      // Nothing unaccounted for: every snapshot received was accepted or rejected for a counted reason.
      const rejected = Object.values(after[c].rejected).reduce((a, b) => a + b, 0);
      expect(after[c].received, `${c} collector: received = accepted + rejected`).toBe(after[c].accepted + rejected);
    }
    return record;
  }

  const nodeView = async (c: CollectorName, node: string) =>
    (await (await fetch(`${fleet.collector(c).base}/api/v1/nodes/${node}`)).json()) as {
      status: string; epoch: number; seq: number; lastSeen: string; agentTime: string;
    };
  const streamMessages = async (): Promise<number> => {
    const jsz = (await (await fetch(`http://127.0.0.1:${fleet.monitorPort}/jsz?streams=true`)).json()) as {
      account_details?: { stream_detail?: { name: string; state: { messages: number } }[] }[];
    };
    const streams = (jsz.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
    return streams.find((s) => s.name.toLowerCase().includes(CLUSTER))?.state.messages ?? -1;
  };
  const link = (n: FleetNode, state: 'up' | 'down') => run('ip', ['-n', n.ns.name, 'link', 'set', 'lan0', state]);
  /** Resolves just after the core collector accepted a new snapshot of `node`: its silence starts now. */
  const nextSnapshot = async (node: string): Promise<void> => {
    const seen = await nodeView('core', node);
    while (Date.now() - Date.parse(seen.lastSeen) < 10_000) {
      const now = await nodeView('core', node);
      if (now.seq !== seen.seq || now.epoch !== seen.epoch) return;
      await sleep(20);
    }
    throw new Error(`no snapshot of ${node} for 10 s`);
  };
  const staleSequenceRejections = async (): Promise<number> => (await fleet.ingestFigures('core')).rejected['stale_sequence'] ?? 0;

  beforeAll(async () => {
    fleet = await FaultFleet.create(63);
    await fleet.untilExact(Date.now(), Date.now() + 30_000);
    for (const c of COLLECTORS) watches.set(c, new NodeStatusWatch(fleet.collector(c).base));
  }, 120_000);

  afterAll(async () => {
    for (const w of watches.values()) await w.stop();
    mkdirSync(new URL('./artifacts/', import.meta.url), { recursive: true });
    writeFileSync(ARTIFACT, `${JSON.stringify({ intervalMs: INTERVAL_MS, faults: records, usage }, null, 2)}\n`);
    await fleet?.delete();
  }, 60_000);

  it('collector restarted (SIGKILL and SIGTERM), with JetStream recovering every node at once and without', async () => {
    const [n1, n2] = fleet.nodes as [FleetNode, FleetNode];
    for (const [c, signal] of [['js', 'SIGKILL'], ['core', 'SIGTERM'], ['js', 'SIGTERM'], ['core', 'SIGKILL']] as const) {
      let nodesAtReady = 0;
      // Only this collector's API is gone meanwhile; its nodes are all fine.
      await fault(`collector ${c} ${signal}`, [], async () => {
        await fleet.collector(c).kill(signal);
        await fleet.addClients(n1.ns, n2.address, 80, 1);
        const spawnedAt = Date.now();
        await fleet.startCollector(c);
        // Healed once it says ready; how long its start took is this machine's, reported, not asserted.
        const healedAtMs = Date.now();
        nodesAtReady = ((await (await fetch(`${fleet.collector(c).base}/api/v1/nodes`)).json()) as unknown[]).length;
        return { healedAtMs, allowanceMs: 0, notes: { startMs: healedAtMs - spawnedAt, nodesAtReady } };
      });
      // JetStream hands the restarted collector every node's last snapshot before it says ready.
      if (c === 'js') expect(nodesAtReady).toBe(3);
    }
    // The long-lived processes from here on: both collectors and the agents never restarted.
    for (const c of COLLECTORS) usage.push({ process: `collector ${c}`, pid: fleet.collector(c).pid!, before: procUsage(fleet.collector(c).pid!) });
    for (const n of [n1, n2]) usage.push({ process: `agent ${n.name}`, pid: n.agent!.pid!, before: procUsage(n.agent!.pid!) });
  });

  for (const store of ['kept', 'lost'] as const) {
    it(`nats-server SIGKILLed mid-stream and restarted on the same port, JetStream store ${store}`, async () => {
      const [, , n3] = fleet.nodes as [FleetNode, FleetNode, FleetNode];
      const storedBefore = await streamMessages();
      expect(storedBefore).toBeGreaterThanOrEqual(3);
      let storedAfterRestart = 0;
      const record = await fault(`nats-server SIGKILL, store ${store}`, [], async () => {
        await fleet.nats.kill('SIGKILL');
        const downAt = Date.now();
        await fleet.addClients(fleet.client, n3.address, 80, 1);
        await sleep(Math.max(0, INTERVAL_MS - (Date.now() - downAt)));
        if (store === 'lost') rmSync(join(fleet.nats.storeDir, 'jetstream'), { recursive: true, force: true });
        await fleet.nats.restart();
        const healedAtMs = Date.now();
        storedAfterRestart = await streamMessages();
        const allowanceMs = RECONNECT_ALLOWANCE_MS + (store === 'lost' ? JETSTREAM_ACK_ALLOWANCE_MS : 0);
        return { healedAtMs, allowanceMs, notes: { downMs: healedAtMs - downAt, storedBefore, storedAfterRestart } };
      });
      // With its store the stream (a message per node) survives the kill; without, the
      // js collector makes it again on reconnect and n3, publishing through JetStream, counts again.
      if (store === 'kept') expect(storedAfterRestart).toBeGreaterThanOrEqual(3);
      else expect(storedAfterRestart).toBeLessThan(1);
      // Once every node published again, the stream holds each node's last snapshot.
      const until = Date.now() + 2 * INTERVAL_MS + POLL_ALLOWANCE_MS;
      while ((await streamMessages()) < 3 && Date.now() < until) await sleep(100);
      expect(await streamMessages()).toBeGreaterThanOrEqual(3);
      for (const c of COLLECTORS) expect(record.ingest[c].after.received).toBeGreaterThan(record.ingest[c].before.received);
    });
  }

  it('agent SIGKILLed and restarted (new epoch): stale only if silent > 3 intervals; after 4 intervals down, stale and back', async () => {
    const n3 = fleet.node('n3');
    const [n1] = fleet.nodes as [FleetNode];
    for (const downIntervals of [0, 4]) {
      const epochBefore = (await nodeView('core', 'n3')).epoch;
      const record = await fault(`agent restart after ${downIntervals} intervals down`, ['n3'], async () => {
        // Killed just after a snapshot, so its silence is the downtime plus the new agent's start.
        await nextSnapshot('n3');
        const killAt = Date.now();
        await fleet.killAgent(n3);
        await fleet.addClients(n1.ns, n3.address, 80, 1);
        await sleep(Math.max(0, downIntervals * INTERVAL_MS - (Date.now() - killAt)));
        const spawnedAt = Date.now();
        fleet.startAgent(n3);
        // Healed once the new agent says it started (connected; its first sample is up to an interval away).
        const healedAtMs = await n3.agentStarted;
        return { healedAtMs, allowanceMs: 0, notes: { downMs: healedAtMs - killAt, startMs: healedAtMs - spawnedAt } };
      });
      for (const c of COLLECTORS) {
        const view = await nodeView(c, 'n3');
        // The new run replaced the old one; exact counts above say it is not added to it.
        expect(view.epoch).not.toBe(epochBefore);
        expect(view.status).toBe('live');
        if (downIntervals) {
          expect(record.stale[c].map((p) => p.node)).toEqual(['n3']);
          expect(record.stale[c][0]!.toMs).toBeDefined();
        }
      }
    }
  });

  it('partition: a node\'s link cut inside its namespace for 1.5 intervals, and for 4 (stale, then live)', async () => {
    const n1 = fleet.node('n1');
    for (const intervals of [1.5, 4]) {
      const record = await fault(`partition ${intervals} intervals`, ['n1'], async () => {
        await nextSnapshot('n1');
        await link(n1, 'down');
        const cutAt = Date.now();
        // Counts change on the cut-off node itself: connections over its loopback.
        await fleet.addClients(n1.ns, '127.0.0.1', 80, 2);
        await sleep(Math.max(0, intervals * INTERVAL_MS - (Date.now() - cutAt)));
        await link(n1, 'up');
        return { healedAtMs: Date.now(), allowanceMs: 0 };
      });
      if (intervals > 3) for (const c of COLLECTORS) expect(record.stale[c].map((p) => p.node)).toEqual(['n1']);
    }
  });

  it('agent clock 30 s ahead, then 30 s behind (libfaketime): counts exact, never stale, skew visible', async () => {
    // A handover, so the skew is tested and not the restart: the skewed agent starts while the
    // old one still runs, and the old one is killed once the new one publishes. A run 30 s
    // ahead replaces the old run at once; a run 30 s behind is refused (stale_sequence) while
    // the old run still publishes, and replaces it once that one has missed an interval.
    const n3 = fleet.node('n3');
    const [, n2] = fleet.nodes as [FleetNode, FleetNode];
    for (const skew of ['+30s', '-30s']) {
      const old = { agent: n3.agent!, epoch: (await nodeView('core', 'n3')).epoch };
      await fault(`agent clock ${skew}`, [], async () => {
        const rejectedBefore = await staleSequenceRejections();
        fleet.startAgent(n3, skew);
        const publishing = skew === '+30s'
          ? async () => (await nodeView('core', 'n3')).epoch !== old.epoch
          : async () => (await staleSequenceRejections()) > rejectedBefore;
        const startedAt = Date.now();
        while (!(await publishing())) {
          if (Date.now() - startedAt > 15_000) throw new Error(`the agent under faketime ${skew} did not publish within 15 s`);
          await sleep(50);
        }
        const publishedAfterMs = Date.now() - startedAt;
        if (old.agent.pid) process.kill(old.agent.pid, 'SIGKILL');
        // Counted only by the skewed run: exact counts prove it took over.
        await fleet.addClients(n2.ns, n3.address, 80, 1);
        return { healedAtMs: Date.now(), allowanceMs: 0, notes: { newAgentPublishedAfterMs: publishedAfterMs } };
      });
      for (const c of COLLECTORS) {
        const view = await nodeView(c, 'n3');
        expect(view.epoch).not.toBe(old.epoch);
        const skewMs = Date.parse(view.agentTime) - Date.parse(view.lastSeen);
        // The agent really runs on the shifted clock (libfaketime works under Node).
        expect(Math.abs(skewMs - (skew === '+30s' ? 30_000 : -30_000))).toBeLessThan(3000);
      }
    }
  });

  it('slow consumer: a stopped collector is cut off by nats-server and recovers without a false stale', async () => {
    const core = fleet.collector('core');
    const [, n2] = fleet.nodes as [FleetNode, FleetNode];
    const slowBefore = Number((await fleet.varz())['slow_consumers']);
    const flooder = await connect({ servers: fleet.nats.url });
    try {
      const record = await fault('slow consumer', [], async () => {
        process.kill(core.pid!, 'SIGSTOP');
        const stoppedAt = Date.now();
        // 16 MB on a snapshot subject: far more than the stopped collector's socket and the
        // server's max_pending (1 MB) hold. Both collectors count it as rejected.
        const junk = new Uint8Array(64 * 1024).fill(0xff);
        for (let i = 0; i < 256; i++) flooder.publish(`fleetstat.v1.${CLUSTER}.snap.flood`, junk);
        await flooder.flush();
        await fleet.addClients(fleet.client, n2.address, 8080, 1);
        let slow = slowBefore;
        while (slow === slowBefore && Date.now() - stoppedAt < 10_000) {
          await sleep(100);
          slow = Number((await fleet.varz())['slow_consumers']);
        }
        // Stopped longer than 3 intervals: a naive sweep on waking would call every node stale.
        await sleep(Math.max(0, 3.5 * INTERVAL_MS - (Date.now() - stoppedAt)));
        process.kill(core.pid!, 'SIGCONT');
        return { healedAtMs: Date.now(), allowanceMs: RECONNECT_ALLOWANCE_MS, notes: { stoppedMs: Date.now() - stoppedAt, slowConsumers: slow - slowBefore } };
      });
      expect(record.notes['slowConsumers']).toBeGreaterThan(0);
      expect(record.ingest.js.after.rejected['too_large'] ?? record.ingest.js.after.rejected['malformed']).toBeGreaterThan(0);
    } finally {
      if (core.pid) process.kill(core.pid, 'SIGCONT');
      await flooder.close();
    }
  });

  it('no process leaks descriptors or memory across the faults', async () => {
    await sleep(2 * INTERVAL_MS);
    for (const u of usage) u.after = procUsage(u.pid);
    console.log(`usage before/after the faults: ${JSON.stringify(usage)}`);
    for (const u of usage) {
      const after = u.after!;
      expect(after.fds, `${u.process} descriptors`).toBeLessThanOrEqual(u.before.fds + 3);
      expect(after.rssKb, `${u.process} RSS kB`).toBeLessThanOrEqual(Math.max(u.before.rssKb * 1.5, u.before.rssKb + 40 * 1024));
    }
    // Every collector, agent and nats-server still runs.
    for (const c of COLLECTORS) expect(fleet.collector(c).running).toBe(true);
    for (const n of fleet.nodes) expect(n.agent?.exitCode).toBeNull();
  });
});
