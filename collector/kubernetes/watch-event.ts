// One line of a watch body to an event, without side effects, so ListWatch only decides what
// each kind means. The shapes are the API server's: `{"type":…,"object":…}` where object is the
// item (ADDED, MODIFIED, DELETED), an object carrying only metadata.resourceVersion (BOOKMARK),
// or a Status (ERROR; code 410 and reason Expired when the requested version left history).

import { asObject, resourceVersionOf } from './kube-object.js';

export const WATCH_EVENT_TYPES = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'] as const;
export type WatchEventType = (typeof WATCH_EVENT_TYPES)[number];

export type WatchLine =
  | { kind: 'blank' }
  | { kind: 'bad'; why: string }
  | { kind: 'item'; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Record<string, unknown>; resourceVersion: string | undefined }
  | { kind: 'bookmark'; resourceVersion: string | undefined }
  /** `expired`: the watch's resourceVersion is gone from history (410); relist. */
  | { kind: 'error'; code: number; reason: string | undefined; message: string; expired: boolean };

export function parseWatchLine(line: Buffer): WatchLine {
  // A proxy may end lines with CRLF; an empty line carries nothing.
  const text = line.toString('utf8').trim();
  if (text === '') return { kind: 'blank' };
  let event: Record<string, unknown> | undefined;
  try {
    event = asObject(JSON.parse(text));
  } catch {
    return { kind: 'bad', why: 'not JSON' };
  }
  const type = event?.['type'];
  const object = asObject(event?.['object']);
  if (typeof type !== 'string' || !object) return { kind: 'bad', why: 'not a watch event' };
  switch (type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      return { kind: 'item', type, object, resourceVersion: resourceVersionOf(object) };
    case 'BOOKMARK':
      return { kind: 'bookmark', resourceVersion: resourceVersionOf(object) };
    case 'ERROR': {
      const code = typeof object['code'] === 'number' ? object['code'] : 0;
      const reason = typeof object['reason'] === 'string' ? object['reason'] : undefined;
      const message = typeof object['message'] === 'string' ? object['message'] : 'watch ERROR event';
      return { kind: 'error', code, reason, message, expired: code === 410 || reason === 'Expired' || reason === 'Gone' };
    }
    default:
      return { kind: 'bad', why: `unknown event type ${JSON.stringify(type).slice(0, 40)}` };
  }
}
