// (port, direction, state) packed into one number: port (16 bits) | direction (4) | state (4).
// Counting keys on numbers builds no string per socket; agent and collector share the packing.

export function connectionKey(port: number, direction: number, state: number): number {
  return (port << 8) | ((direction & 0xf) << 4) | (state & 0xf);
}

export function keyPort(key: number): number {
  return key >>> 8;
}

export function keyDirection(key: number): number {
  return (key >>> 4) & 0xf;
}

export function keyState(key: number): number {
  return key & 0xf;
}

/** The (port, direction) part, for per-port-and-direction tallies such as top remotes. */
export function portDirectionKey(key: number): number {
  return key >>> 4;
}
