// Where the API token comes from (flag file, then FLEETSTAT_API_TOKEN_FILE, then
// FLEETSTAT_API_TOKEN), and which TLS settings the flags add up to for each gRPC connection.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiTokenOf } from './api-token.js';
import { agentDetailTlsOf, agentGrpcTlsOf, collectorDetailTlsOf, collectorGrpcTlsOf } from './tls-options.js';
import { UsageError } from './usage-error.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('apiTokenOf', () => {
  it('--api-token-file, then FLEETSTAT_API_TOKEN_FILE, then FLEETSTAT_API_TOKEN; none: no token', () => {
    const flagFile = file('flag', 'from-flag\n');
    const envFile = file('env', 'from-env-file\n');
    const env = { FLEETSTAT_API_TOKEN_FILE: envFile, FLEETSTAT_API_TOKEN: 'from-env' };
    expect(apiTokenOf({ apiTokenFile: flagFile }, env)).toBe('from-flag');
    expect(apiTokenOf({}, env)).toBe('from-env-file');
    expect(apiTokenOf({}, { FLEETSTAT_API_TOKEN: ' from-env ' })).toBe('from-env');
    expect(apiTokenOf({}, {})).toBeUndefined();
    expect(apiTokenOf({}, { FLEETSTAT_API_TOKEN: '', FLEETSTAT_API_TOKEN_FILE: '' })).toBeUndefined();
  });

  it('an unreadable or empty file, or a token with whitespace inside: UsageError', () => {
    expect(() => apiTokenOf({ apiTokenFile: join(dir, 'missing') }, {})).toThrow(UsageError);
    expect(() => apiTokenOf({ apiTokenFile: file('empty', '\n') }, {})).toThrow(/is empty/);
    expect(() => apiTokenOf({ apiTokenFile: file('spaced', 'two words\n') }, {})).toThrow(/holds whitespace/);
  });
});

describe('TLS flags', () => {
  it('agent: no flag is plaintext; a CA alone is TLS; DetailService serves with the agent certificate and checks the CA', () => {
    expect(agentGrpcTlsOf({})).toBeUndefined();
    expect(agentDetailTlsOf({})).toBeUndefined();
    expect(agentGrpcTlsOf({ grpcCa: 'ca' })).toEqual({ ca: 'ca' });
    expect(() => agentDetailTlsOf({ grpcCa: 'ca' })).toThrow(/--detail-listen over TLS needs --grpc-cert and --grpc-key/);
    expect(agentDetailTlsOf({ grpcCa: 'ca', grpcCert: 'c', grpcKey: 'k' })).toEqual({ cert: 'c', key: 'k', clientCa: 'ca' });
    expect(() => agentGrpcTlsOf({ grpcKey: 'k' })).toThrow(/--grpc-cert and --grpc-key go together/);
  });

  it('collector: the server certificate is also its DetailService client certificate; the client CA is trusted there', () => {
    expect(collectorGrpcTlsOf({})).toBeUndefined();
    expect(collectorDetailTlsOf({})).toBeUndefined();
    expect(() => collectorGrpcTlsOf({ grpcClientCa: 'ca' })).toThrow(/need --grpc-tls-cert and --grpc-tls-key/);
    const flags = { grpcTlsCert: 'c', grpcTlsKey: 'k', grpcClientCa: 'ca', detailServerName: 'fleetstat-agent' };
    expect(collectorGrpcTlsOf(flags)).toEqual({ cert: 'c', key: 'k', clientCa: 'ca' });
    expect(collectorDetailTlsOf(flags)).toEqual({ cert: 'c', key: 'k', ca: 'ca', serverName: 'fleetstat-agent' });
  });
});
