// What a parser saw: lines, lines it could not use, and bytes; summed across tables and namespaces.

export interface ScanStats {
  lines: number;
  badLines: number;
  bytes: number;
}

export function emptyScanStats(): ScanStats {
  return { lines: 0, badLines: 0, bytes: 0 };
}

export function addScanStats(into: ScanStats, from: ScanStats): ScanStats {
  into.lines += from.lines;
  into.badLines += from.badLines;
  into.bytes += from.bytes;
  return into;
}
