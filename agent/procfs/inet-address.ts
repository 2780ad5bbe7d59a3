// Socket addresses as /proc/net/{tcp,udp,raw}[6] print them, and as inet_ntop(3) prints them back.
//
// The kernel prints each 32-bit word of an address with %08X in host byte order, so on
// little-endian machines the bytes inside every 4-byte group appear reversed
// (127.0.0.1 is 0100007F). IPv6 is four such words.

import { hexDigit } from './byte-fields.js';
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Decode `hexLength` (8 or 32) kernel hex digits at `start` into `out` as network-order bytes.
 * Returns false when a digit is not hex.
 */
export function decodeKernelAddress(buf: Uint8Array, start: number, hexLength: number, out: Uint8Array): boolean {
  const byteCount = hexLength / 2;
  for (let i = 0; i < byteCount; i++) {
    const hi = hexDigit(buf[start + 2 * i]);
    const lo = hexDigit(buf[start + 2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    // Within each 4-byte word the printed order is host order.
    const word = i & ~3;
    const index = LITTLE_ENDIAN ? word + 3 - (i & 3) : i;
    out[index] = hi * 16 + lo;
  }
  return true;
}

/** The kernel's hex for network-order address bytes (the inverse of decodeKernelAddress). */
export function encodeKernelAddress(bytes: Uint8Array): string {
  let text = '';
  for (let word = 0; word < bytes.length; word += 4) {
    for (let k = 0; k < 4; k++) {
      const byte = bytes[LITTLE_ENDIAN ? word + 3 - k : word + k] ?? 0;
      text += byte.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return text;
}

export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * IPv6 text exactly as glibc's inet_ntop prints it (and so netstat and ss): the longest run
 * of two or more zero groups becomes "::" (the first on a tie), and IPv4-mapped addresses and
 * those whose first six groups are zero (but not the last two) end in a dotted quad (glibc 2.36).
 */
export function formatIpv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else curLen++;
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
    } else curBase = -1;
  }
  if (bestLen < 2) bestBase = -1;
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) text += ':';
      continue;
    }
    if (i !== 0) text += ':';
    const embedsIpv4 =
      i === 6 &&
      bestBase === 0 &&
      (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff));
    if (embedsIpv4) return text + formatIpv4(bytes, 12);
    text += (words[i] ?? 0).toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) text += ':';
  return text;
}

/** True when an IPv6 address is ::ffff:a.b.c.d (an IPv4 client of a dual-stack socket). */
export function isIpv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}
