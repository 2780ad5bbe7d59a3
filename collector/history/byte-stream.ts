// Little-endian byte streams for the history's packed formats (packed minutes, the open-hour
// journal and its frames): bytes, varints, float64s and bit fields. Numbers are JS doubles, so
// varints and bit fields hold whole numbers up to 2^53 without BigInt.

/** Varints and float64s written through byte(); where the bytes go is the subclass's. */
export abstract class ByteSink {
  abstract byte(v: number): void;

  varint(v: number): void {
    // Below 2^31, integer ops; above, exact double arithmetic (whole numbers up to 2^53).
    while (v >= 0x80000000) {
      this.byte((v % 128) + 128);
      v = Math.floor(v / 128);
    }
    while (v >= 128) {
      this.byte((v & 127) | 128);
      v >>>= 7;
    }
    this.byte(v);
  }

  float(v: number): void {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, v, true);
    for (let i = 0; i < 8; i++) this.byte(view.getUint8(i));
  }
}

/** Bytes in one growing array, with bit fields. */
export class ByteWriter extends ByteSink {
  private bytes: Uint8Array;
  length = 0;
  // Bits waiting for a whole byte (fewer than 8 between writes, so acc stays under 2^32).
  private acc = 0;
  private accBits = 0;

  constructor(capacity = 256) {
    super();
    this.bytes = new Uint8Array(capacity);
  }

  byte(v: number): void {
    if (this.length === this.bytes.length) this.spaceFor(1);
    this.bytes[this.length++] = v;
  }

  /** Append `width` bits of `v` (0 <= v < 2^width, width <= 53), 16 at a time. */
  bits(v: number, width: number): void {
    // Fewer than 8 bits wait between calls, so up to 24 bits fit 32-bit integer ops (the
    // common case: the sealer packs every series' hour).
    if (width <= 24) {
      this.acc = (this.acc | (v << this.accBits)) >>> 0;
      this.accBits += width;
      while (this.accBits >= 8) {
        this.byte(this.acc & 0xff);
        this.acc >>>= 8;
        this.accBits -= 8;
      }
      return;
    }
    while (width > 0) {
      const take = width < 16 ? width : 16;
      const scale = 2 ** take;
      const part = v % scale;
      v = Math.floor(v / scale);
      width -= take;
      this.acc += part * 2 ** this.accBits;
      this.accBits += take;
      while (this.accBits >= 8) {
        this.byte(this.acc & 0xff);
        this.acc = Math.floor(this.acc / 256);
        this.accBits -= 8;
      }
    }
  }

  /** Room for `n` more bytes: the array to write them into at `length` (then add n to length). */
  spaceFor(n: number): Uint8Array {
    if (this.length + n > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    return this.bytes;
  }

  /** The bytes in [from, to) without copying: valid until the next write. */
  view(from = 0, to = this.length): Uint8Array {
    return this.bytes.subarray(from, to);
  }

  /** Pad the bit stream to a byte and return the bytes written. */
  finish(): Buffer {
    if (this.accBits > 0) this.byte(this.acc);
    this.acc = 0;
    this.accBits = 0;
    return Buffer.from(this.bytes.buffer, 0, this.length);
  }
}

export class ByteReader {
  private pos = 0;
  private acc = 0;
  private accBits = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  byte(): number {
    if (this.pos >= this.bytes.length) throw new RangeError('packed bytes: truncated');
    return this.bytes[this.pos++] as number;
  }

  /** The next `n` bytes, without copying. */
  take(n: number): Uint8Array {
    if (this.pos + n > this.bytes.length) throw new RangeError('packed bytes: truncated');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  varint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 0x7f) * scale;
      if (b < 128) return v;
      scale *= 128;
    }
  }

  float(): number {
    const view = new DataView(new ArrayBuffer(8));
    for (let i = 0; i < 8; i++) view.setUint8(i, this.byte());
    return view.getFloat64(0, true);
  }

  bits(width: number): number {
    // Fewer than 8 bits wait between calls, so up to 24 bits fit 32-bit integer ops (the
    // common case: the reader decodes every blob of a report's range).
    if (width <= 24) {
      while (this.accBits < width) {
        this.acc |= this.byte() << this.accBits;
        this.accBits += 8;
      }
      const v = this.acc & ((1 << width) - 1);
      this.acc >>>= width;
      this.accBits -= width;
      return v;
    }
    let v = 0;
    let scale = 1;
    while (width > 0) {
      const take = width < 16 ? width : 16;
      while (this.accBits < take) {
        this.acc += this.byte() * 2 ** this.accBits;
        this.accBits += 8;
      }
      const unit = 2 ** take;
      v += (this.acc % unit) * scale;
      this.acc = Math.floor(this.acc / unit);
      this.accBits -= take;
      scale *= unit;
      width -= take;
    }
    return v;
  }
}
