// --output table|json, shared by the commands that query a collector.

import type { Command } from 'commander';
import { argParser } from './agent-options.js';

export type OutputFormat = 'table' | 'json';

export function addOutputOption(command: Command): Command {
  return command.option('-o, --output <format>', 'table or json', argParser(parseOutput), 'table');
}

function parseOutput(text: string): OutputFormat {
  if (text !== 'table' && text !== 'json') throw new Error(`"${text}": expected table or json`);
  return text;
}
