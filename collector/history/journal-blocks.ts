// Storage for the open hours' journals: fixed 64-byte blocks carved from 1 MiB slabs and
// recycled when an hour is sealed. Tens of thousands of journals each holding a few hundred
// bytes would otherwise be as many ArrayBuffers, each allocated, grown and swept by the garbage
// collector every hour; here a journal is a short list of block numbers and the slabs stay.
// Memory is kept at the most ever used (the slabs are not returned).

import type { ByteWriter } from './byte-stream.js';
import { ByteSink } from './byte-stream.js';

const BLOCK_SHIFT = 6; // 64-byte blocks
const BLOCK_BYTES = 1 << BLOCK_SHIFT;
const SLAB_SHIFT = 14; // 16,384 blocks a slab: 1 MiB
const SLAB_MASK = (1 << SLAB_SHIFT) - 1;

export class BlockPool {
  readonly slabs: Uint8Array[] = [];
  private readonly free: number[] = [];
  private next = 0;

  alloc(): number {
    const id = this.free.pop();
    if (id !== undefined) return id;
    if (this.next === this.slabs.length << SLAB_SHIFT) this.slabs.push(new Uint8Array(BLOCK_BYTES << SLAB_SHIFT));
    return this.next++;
  }

  release(ids: readonly number[]): void {
    for (const id of ids) this.free.push(id);
  }

  /** Blocks handed out and not released. */
  get inUse(): number {
    return this.next - this.free.length;
  }
}

/** The process's pool: every store's journals share it. */
export const journalBlocks = new BlockPool();

/** A byte string kept in pool blocks, appended to and read by index. */
export class BlockBytes extends ByteSink {
  private readonly blocks: number[] = [];
  length = 0;
  // Where the next byte goes: the current block's slab and offset (no lookups per byte).
  private slab: Uint8Array | undefined;
  private base = 0;

  constructor(private readonly pool: BlockPool = journalBlocks) {
    super();
  }

  byte(v: number): void {
    const offset = this.length & (BLOCK_BYTES - 1);
    if (offset === 0) {
      const id = this.pool.alloc();
      this.blocks.push(id);
      this.slab = this.pool.slabs[id >> SLAB_SHIFT];
      this.base = (id & SLAB_MASK) << BLOCK_SHIFT;
    }
    (this.slab as Uint8Array)[this.base + offset] = v;
    this.length++;
  }

  at(i: number): number {
    const id = this.blocks[i >> BLOCK_SHIFT] as number;
    return (this.pool.slabs[id >> SLAB_SHIFT] as Uint8Array)[((id & SLAB_MASK) << BLOCK_SHIFT) + (i & (BLOCK_BYTES - 1))] as number;
  }

  /** Append the bytes in [from, to) to `writer`. */
  copyTo(writer: ByteWriter, from: number, to: number): void {
    const out = writer.spaceFor(to - from);
    let at = writer.length;
    for (let i = from; i < to; i++) out[at++] = this.at(i);
    writer.length = at;
  }

  /** A copy of the bytes in [from, to). */
  copy(from = 0, to = this.length): Uint8Array {
    const out = new Uint8Array(to - from);
    for (let i = from; i < to; i++) out[i - from] = this.at(i);
    return out;
  }

  /** Give the blocks back; the string is empty after. */
  release(): void {
    this.pool.release(this.blocks);
    this.blocks.length = 0;
    this.length = 0;
    this.slab = undefined;
  }
}
