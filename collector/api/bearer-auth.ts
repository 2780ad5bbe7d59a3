// The collector's query API token: `Authorization: Bearer <token>` on HTTP (/api/v1/*, /metrics)
// and the same in gRPC metadata for QueryService. Compared in constant time: both sides are
// hashed first, so neither the token's content nor its length leaks through timing.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServerInterceptor } from '@grpc/grpc-js';
import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status as Status } from '@grpc/grpc-js';

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

/**
 * Refuses calls to methods under `pathPrefix` (e.g. "/fleetstat.v1.QueryService/") with
 * UNAUTHENTICATED unless their metadata carries `authorization: Bearer <token>`; other services
 * on the same server (IngestService, which mutual TLS guards) pass through untouched.
 */
export function bearerInterceptor(auth: BearerAuth, pathPrefix: string): ServerInterceptor {
  return (method, call) => {
    if (!method.path.startsWith(pathPrefix)) return new ServerInterceptingCall(call);
    const responder = new ResponderBuilder()
      .withStart((next) => {
        const listener = new ServerListenerBuilder()
          .withOnReceiveMetadata((metadata, passOn) => {
            const [value] = metadata.get('authorization');
            if (auth.allows(typeof value === 'string' ? value : undefined)) passOn(metadata);
            else call.sendStatus({ code: Status.UNAUTHENTICATED, details: 'missing or wrong bearer token (metadata authorization: Bearer <token>)' });
          })
          .build();
        next(listener);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
