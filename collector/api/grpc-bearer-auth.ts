// The API token on gRPC: QueryService calls carry `authorization: Bearer <token>` metadata.

import type { ServerInterceptor } from '@grpc/grpc-js';
import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status as Status } from '@grpc/grpc-js';
import type { BearerAuth } from './bearer-auth.js';

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
