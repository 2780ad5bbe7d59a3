// The `fleetstat` command: parses arguments and dispatches to a subcommand.
// Returns the exit code; usage errors exit 2 with a message, never a stack trace.

import { Command, CommanderError } from 'commander';
import { registerAgent } from './commands/agent.js';
import { registerNetstat } from './commands/netstat.js';
import { registerUp } from './commands/up.js';
import { registerTop } from './commands/top.js';
import { registerConnections } from './commands/connections.js';
import { registerCollector } from './commands/collector.js';
import { registerReport } from './commands/report.js';
import { UsageError } from './usage-error.js';
import { VERSION } from './version.js';

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('fleetstat')
    .description('HTTP connection counts from the kernel socket tables, for one host or a whole fleet')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) });
  registerAgent(program);
  registerCollector(program);
  registerNetstat(program);
  registerUp(program);
  registerTop(program);
  registerConnections(program);
  registerReport(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UsageError || (error instanceof Error && error.name === 'ConfigError')) {
      process.stderr.write(`fleetstat: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`fleetstat: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
