// Read one namespace's socket tables once, through the first member process still alive.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TableName } from '../procfs/net-tables.js';
import { ProcFileReader } from '../procfs/read-proc-file.js';
import type { NamespaceTables } from '../snapshot/count-namespace.js';

/** One reader per table, so all of a namespace's tables can be held at once without copies. */
export class NamespaceTableReader {
  private readonly readers = new Map<TableName, ProcFileReader>();

  constructor(private readonly procRoot: string) {}

  /** Tables are valid until the next call. `missing` lists tables that could not be read. */
  read(pids: readonly number[], tables: readonly TableName[]): { tables: NamespaceTables; missing: TableName[] } {
    let last: { tables: NamespaceTables; missing: TableName[] } = { tables: {}, missing: [...tables] };
    for (const pid of pids) {
      const dir = join(this.procRoot, String(pid));
      const read: NamespaceTables = {};
      const missing: TableName[] = [];
      for (const table of tables) {
        const bytes = this.readerFor(table).read(join(dir, 'net', table));
        if (bytes) read[table] = bytes;
        else missing.push(table);
      }
      last = { tables: read, missing };
      // A table absent from a live process is absent from the namespace (IPv6 off, say);
      // if the process itself is gone, the next member gives a whole read.
      if (missing.length === 0 || existsSync(dir)) return last;
    }
    return last;
  }

  private readerFor(table: TableName): ProcFileReader {
    let reader = this.readers.get(table);
    if (!reader) this.readers.set(table, (reader = new ProcFileReader()));
    return reader;
  }
}
