// The collector's query API token: `Authorization: Bearer <token>` on HTTP (/api/v1/*, /metrics)
// and the same in gRPC metadata for QueryService (grpc-bearer-auth.ts). Compared in constant
// time: both sides are hashed first, so neither the token's content nor its length leaks.

import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export class BearerAuth {
  private readonly expected: Buffer;

  constructor(token: string) {
    if (token === '' || /\s/.test(token)) throw new Error('an API token must be non-empty and hold no whitespace');
    this.expected = digest(token);
  }

  /** Whether an Authorization header's value carries the token. */
  allows(authorization: string | undefined): boolean {
    const match = /^Bearer +(\S+)\s*$/i.exec(authorization ?? '');
    // Hash something even when the header is missing, so that case takes as long as a wrong token.
    return timingSafeEqual(digest(match?.[1] ?? ''), this.expected) && match !== null;
  }
}

/** The header a 401 carries (RFC 6750). */
export const WWW_AUTHENTICATE = 'Bearer realm="fleetstat"';
