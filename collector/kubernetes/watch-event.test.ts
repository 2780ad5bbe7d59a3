import { describe, expect, it } from 'vitest';
import { fixtureText } from '../../test/support/fake-kube-api.js';
import { parseWatchLine } from './watch-event.js';

const line = (text: string) => parseWatchLine(Buffer.from(text));

describe('parseWatchLine on recorded lines', () => {
  it('reads each event of the watch fixture with its resourceVersion', () => {
    const parsed = fixtureText('watch-events.ndjson').trimEnd().split('\n').map(line);
    expect(parsed.map((p) => (p.kind === 'item' ? `${p.type} ${p.resourceVersion}` : `${p.kind} ${'resourceVersion' in p ? p.resourceVersion : ''}`))).toEqual([
      'ADDED 861610', 'MODIFIED 861615', 'DELETED 861620', 'MODIFIED 861633', 'bookmark 861700',
    ]);
  });

  it('reads the expired ERROR event as a relist', () => {
    expect(line(fixtureText('watch-expired.ndjson'))).toEqual({
      kind: 'error', code: 410, reason: 'Expired', message: 'too old resource version: 861700 (861950)', expired: true,
    });
  });
});

describe('parseWatchLine on other input', () => {
  it('tells blank, garbage and unknown lines apart', () => {
    expect(line('')).toEqual({ kind: 'blank' });
    expect(line('\r')).toEqual({ kind: 'blank' });
    expect(line('<html>')).toEqual({ kind: 'bad', why: 'not JSON' });
    expect(line('[1,2]')).toEqual({ kind: 'bad', why: 'not a watch event' });
    expect(line('{"type":"ADDED","object":"x"}')).toEqual({ kind: 'bad', why: 'not a watch event' });
    expect(line('{"type":"RESYNC","object":{}}')).toEqual({ kind: 'bad', why: 'unknown event type "RESYNC"' });
  });

  it('keeps a CRLF-terminated event', () => {
    expect(line('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}\r')).toEqual({ kind: 'bookmark', resourceVersion: '7' });
  });

  it('marks other ERROR statuses as not expired', () => {
    expect(line('{"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"etcdserver: request timed out","reason":"InternalError","code":500}}')).toEqual({
      kind: 'error', code: 500, reason: 'InternalError', message: 'etcdserver: request timed out', expired: false,
    });
    expect(line('{"type":"ERROR","object":{"kind":"Status","reason":"Expired"}}')).toMatchObject({ code: 0, expired: true });
  });
});
