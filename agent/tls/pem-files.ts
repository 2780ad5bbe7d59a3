// Certificates and keys read from PEM files once, at start-up, and checked there: a file that
// cannot be read, holds no PEM, or a key that does not belong to its certificate is a
// TlsFileError naming the file, instead of a handshake that fails later for a reason nobody sees.

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export class TlsFileError extends Error {
  override readonly name = 'TlsFileError';
}

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new TlsFileError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}

/** One or more PEM certificates (a CA bundle or a chain, leaf first); each must parse. */
export function readCertificates(file: string, what = 'certificate'): Buffer {
  const pem = readFile(file, what);
  const blocks = pem.toString('latin1').match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw new TlsFileError(`${what} ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new TlsFileError(`${what} ${file} holds a certificate that does not parse: ${(error as Error).message}`, { cause: error });
    }
  }
  return pem;
}

/** A certificate (chain) and its private key; the key must be the certificate's. */
export function readKeyPair(certFile: string, keyFile: string): KeyPair {
  const cert = readCertificates(certFile);
  const key = readFile(keyFile, 'private key');
  let keyObject;
  try {
    keyObject = createPrivateKey(key);
  } catch (error) {
    throw new TlsFileError(`private key ${keyFile} is not an unencrypted PEM private key: ${(error as Error).message}`, { cause: error });
  }
  const leaf = new X509Certificate(cert.toString('latin1').match(CERTIFICATE_BLOCK)?.[0] ?? '');
  if (!leaf.checkPrivateKey(keyObject)) throw new TlsFileError(`private key ${keyFile} does not belong to certificate ${certFile}`);
  return { cert, key };
}
