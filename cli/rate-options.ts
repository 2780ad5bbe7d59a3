// --detail-rate: detail requests per second allowed to one requester (agent: per collector
// connection or peer address; collector: per HTTP client address on /api/v1/connections, which
// fans out to every node).

export const DEFAULT_DETAIL_RATE = 10;

export function parseRate(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(value >= 0.01 && value <= 100_000)) throw new Error(`"${text}": expected requests per second from 0.01 to 100000`);
  return value;
}
