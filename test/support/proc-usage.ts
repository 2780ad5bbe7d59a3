// What a process holds, from /proc: open descriptors and resident memory (for leak checks).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcUsage {
  fds: number;
  rssKb: number;
}

export function procUsage(pid: number): ProcUsage {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!rss) throw new Error(`/proc/${pid}/status has no VmRSS`);
  return { fds: readdirSync(`/proc/${pid}/fd`).length, rssKb: Number(rss[1]) };
}
