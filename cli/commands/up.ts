// `fleetstat up` (behind `npm start`): this machine's HTTP connections in every network
// namespace, sampled off the event loop and printed each interval, with no server to install.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { httpCountLines } from '../../agent/netstat/http-count-report.js';
import { Sampler } from '../../agent/sampler/sampler.js';
import type { SamplingFlags } from '../agent-options.js';
import { addSamplingOptions, agentConfigOf, argParser } from '../agent-options.js';
import { writeOut } from '../write-out.js';

interface UpFlags extends SamplingFlags {
  count?: number;
}

export function registerUp(program: Command): void {
  addSamplingOptions(program.command('up').description("show this machine's HTTP connections live (every namespace)"))
    .option('--count <n>', 'stop after this many samples', argParser(parsePositive))
    .action(async (flags: UpFlags) => {
      const config = agentConfigOf(flags);
      const sampler = new Sampler({
        procRoot: config.procRoot,
        netns: config.netns,
        httpPorts: config.httpPorts,
        topK: 0,
        maxPidsListed: 0,
      });
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      await writeOut(
        `fleetstat up: node ${config.node}, netns ${config.netns}, HTTP ports ${config.httpPorts.join(',')}, ` +
          `every ${config.intervalMs} ms (Ctrl-C to stop)\n`,
      );
      try {
        for (let n = 0; !stop.signal.aborted && (flags.count === undefined || n < flags.count); n++) {
          if (n > 0) await sleep(config.intervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
          if (stop.signal.aborted) break;
          const sample = await sampler.sample(Math.max(config.intervalMs * 3, 30_000));
          const header =
            `\n${new Date().toISOString()}  namespaces ${sample.namespaces.length}  ` +
            `lines ${sample.parse.lines} (bad ${sample.parse.badLines})  read ${(sample.parse.readMicros / 1000).toFixed(1)} ms`;
          await writeOut(`${[header, ...httpCountLines(sample.namespaces)].join('\n')}\n`);
        }
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
        await sampler.close();
      }
    });
}

function parsePositive(text: string): number {
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new Error(`"${text}": expected a positive whole number`);
  return Number(text);
}
