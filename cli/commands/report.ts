// `fleetstat report`: capacity figures from the collector's history: per node, port, pod or
// workload, the peak, p95, average and last HTTP connections, the trend per day, and the time
// until a given limit is reached. Table, JSON (an array of rows) or CSV.

import type { Command } from 'commander';
import { alignColumns } from '../../agent/netstat/http-count-report.js';
import { parseDuration } from '../../agent/duration.js';
import { argParser } from '../agent-options.js';
import type { CollectorFlags } from '../collector-client.js';
import { addCollectorOptions, CollectorClient } from '../collector-client.js';
import { writeOut } from '../write-out.js';
import type { ReportRowView } from '../../collector/api/history-params.js';

type ReportFormat = 'table' | 'json' | 'csv';

interface ReportFlags extends CollectorFlags {
  since: number;
  by: 'node' | 'port' | 'pod' | 'workload';
  limit?: number;
  limitValue?: number;
  output: ReportFormat;
}


export function registerReport(program: Command): void {
  addCollectorOptions(program.command('report').description('capacity report from history: peak, p95, average, last, trend and time to a limit'))
    .option('--since <duration>', 'how far back, e.g. 1h, 7d', argParser(parseDuration), parseDuration('1d'))
    .option('--by <what>', 'node, port, pod or workload', argParser(parseBy), 'node')
    .option('--limit <n>', 'top N rows by peak', argParser(parsePositive))
    .option('--limit-value <n>', 'connections limit for the time-to-limit column', argParser(parsePositive))
    .option('-o, --output <format>', 'table, json or csv', argParser(parseFormat), 'table')
    .action(async (flags: ReportFlags) => {
      const query = new URLSearchParams({ since: `${flags.since}ms`, by: flags.by });
      if (flags.limit !== undefined) query.set('limit', String(flags.limit));
      if (flags.limitValue !== undefined) query.set('limitValue', String(flags.limitValue));
      const report = await new CollectorClient(flags).getJson<{ rows: ReportRowView[] }>(`api/v1/report?${query}`, 30_000);
      await writeOut(formatReport(report.rows, flags.output));
    });
}

const COLUMNS = ['node', 'namespace', 'workload', 'pod', 'port', 'direction', 'state', 'peak', 'p95', 'avg', 'last', 'trendPerDay', 'timeToLimit'] as const;

export function formatReport(rows: readonly ReportRowView[], format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(rows)}\n`;
  const cells = rows.map((row) => COLUMNS.map((column) => cellOf(row, column)));
  if (format === 'csv') return `${[COLUMNS.join(','), ...cells.map((r) => r.map(csvField).join(','))].join('\n')}\n`;
  return `${alignColumns([COLUMNS.map((c) => c.toUpperCase()), ...cells]).join('\n')}\n`;
}

function cellOf(row: ReportRowView, column: (typeof COLUMNS)[number]): string {
  if (column === 'trendPerDay') {
    return row.trend === null ? '' : row.trend.toFixed(2);
  }
  if (column === 'timeToLimit') {
    const t = row.timeToLimit;
    return t === undefined || t === null ? '' : t === 'never' ? 'never' : `${(t / 86_400_000).toFixed(1)}d`;
  }
  const value = row[column];
  return typeof value === 'number' ? String(Math.round(value * 100) / 100) : value;
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function parseBy(text: string): ReportFlags['by'] {
  if (text !== 'node' && text !== 'port' && text !== 'pod' && text !== 'workload') throw new Error(`"${text}": expected node, port, pod or workload`);
  return text;
}

function parseFormat(text: string): ReportFormat {
  if (text !== 'table' && text !== 'json' && text !== 'csv') throw new Error(`"${text}": expected table, json or csv`);
  return text;
}

function parsePositive(text: string): number {
  if (!/^[1-9]\d{0,9}$/.test(text)) throw new Error(`"${text}": expected a positive whole number`);
  return Number(text);
}
