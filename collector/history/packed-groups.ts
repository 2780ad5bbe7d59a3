// Which rollup rows are packed into which blobs: minutes of an hour into rollup_minute_packed,
// hours of a day into rollup_hour_packed. The sealer, the reader and retention all work from
// these, so both resolutions take one code path.

import type { Resolution } from './rollup.js';

export interface PackedGroup {
  resolution: Resolution;
  /** Row table, keyed (bucket, series_id). */
  rowTable: string;
  /** Blob table, keyed (group, series_id), with the group's cell count and its cells. */
  packedTable: string;
  groupColumn: 'hour' | 'day';
  countColumn: 'minutes' | 'hours';
  /** Buckets per group: row bucket b is slot b % slots of group floor(b / slots). */
  slots: number;
}

export const PACKED_GROUPS: Record<Resolution, PackedGroup> = {
  minute: { resolution: 'minute', rowTable: 'rollup_minute', packedTable: 'rollup_minute_packed', groupColumn: 'hour', countColumn: 'minutes', slots: 60 },
  hour: { resolution: 'hour', rowTable: 'rollup_hour', packedTable: 'rollup_hour_packed', groupColumn: 'day', countColumn: 'hours', slots: 24 },
};
