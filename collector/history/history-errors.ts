// Named errors of the history store. Only start-up (bad options, an unreadable or newer database)
// and bad query arguments throw; recording never does.

export class HistoryStoreError extends Error {
  override readonly name = 'HistoryStoreError';
}

/** A query's arguments are wrong (maps to HTTP 400 / gRPC INVALID_ARGUMENT at the edge). */
export class HistoryQueryError extends Error {
  override readonly name = 'HistoryQueryError';
}
