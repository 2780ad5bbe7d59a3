// A throwaway PKI for TLS tests, made with openssl in a temporary directory (removed by
// cleanup()): a CA, a server certificate for 127.0.0.1 and localhost, a client certificate, and
// a second CA that signed nothing here (the "wrong CA"). Every leaf has serverAuth and clientAuth,
// as the chart's certificates do, so one certificate serves both ends of a connection.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface TestPki {
  dir: string;
  ca: string;
  /** A CA unrelated to every certificate below. */
  otherCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by otherCa: a stranger's. */
  strangerCert: string;
  strangerKey: string;
  cleanup(): void;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await execFileP('openssl', args, { cwd: dir });
}

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`]);
}

async function makeLeaf(dir: string, name: string, ca: string, san: string): Promise<void> {
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`);
  await openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`,
    '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-pki-'));
  try {
    await makeCa(dir, 'ca');
    await makeCa(dir, 'other-ca');
    await makeLeaf(dir, 'server', 'ca', 'IP:127.0.0.1,DNS:localhost');
    await makeLeaf(dir, 'client', 'ca', 'DNS:fleetstat-agent');
    await makeLeaf(dir, 'stranger', 'other-ca', 'DNS:fleetstat-agent');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const file = (name: string): string => join(dir, name);
  return {
    dir,
    ca: file('ca.crt'),
    otherCa: file('other-ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
    strangerCert: file('stranger.crt'),
    strangerKey: file('stranger.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
