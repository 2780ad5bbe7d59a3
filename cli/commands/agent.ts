// `fleetstat agent`: sample this node's network namespaces and emit snapshots.

import type { Command } from 'commander';
import { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { buildSnapshot, newEpoch } from '../../agent/snapshot/build-snapshot.js';
import { Sampler } from '../../agent/sampler/sampler.js';
import type { SamplingFlags } from '../agent-options.js';
import { addSamplingOptions, agentConfigOf, argParser } from '../agent-options.js';
import { UsageError } from '../usage-error.js';
import { VERSION } from '../version.js';
import { writeOut } from '../write-out.js';

type Format = 'json' | 'proto';

interface AgentFlags extends SamplingFlags {
  once?: boolean;
  format: Format;
}

export function registerAgent(program: Command): void {
  addSamplingOptions(program.command('agent').description('sample this node and publish snapshots'))
    .option('--once', 'take one sample, print the snapshot it would publish, and exit')
    .option('--format <format>', 'with --once: json or proto (binary protobuf)', argParser(parseFormat), 'json')
    .action(async (flags: AgentFlags) => {
      const config = agentConfigOf(flags);
      if (!flags.once) {
        throw new UsageError('publishing over NATS or gRPC is not built yet; use --once to print a snapshot');
      }
      const sampler = new Sampler({
        procRoot: config.procRoot,
        netns: config.netns,
        httpPorts: config.httpPorts,
        topK: config.topK,
        maxPidsListed: 16,
        node: config.node,
      });
      try {
        const sample = await sampler.sample(Math.max(config.intervalMs, 30_000));
        const identity = { ...config, epoch: newEpoch(), version: VERSION };
        const snapshot = buildSnapshot(identity, 1, Date.now(), sample);
        await writeOut(
          flags.format === 'proto'
            ? Snapshot.encode(snapshot).finish()
            : `${JSON.stringify(Snapshot.toJSON(snapshot), null, 2)}\n`,
        );
      } finally {
        await sampler.close();
      }
    });
}

function parseFormat(text: string): Format {
  if (text !== 'json' && text !== 'proto') throw new Error(`"${text}": expected json or proto`);
  return text;
}
