import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKernelAddress, encodeKernelAddress, formatIpv4, formatIpv6, isIpv4Mapped } from './inet-address.js';

const bytesOf = (hex: string, length: number): Uint8Array => {
  const out = new Uint8Array(length);
  expect(decodeKernelAddress(Buffer.from(hex), 0, hex.length, out)).toBe(true);
  return out;
};

/** WHATWG URL parsing is an independent IPv6 parser: equal canonical forms mean equal bytes. */
const canonical = (ipv6: string): string => new URL(`http://[${ipv6}]/`).hostname;
const fullForm = (bytes: Uint8Array): string =>
  Array.from({ length: 8 }, (_, i) => (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16)).join(':');

describe('kernel address hex', () => {
  it('decodes IPv4 as the kernel prints it on little-endian machines', () => {
    expect(formatIpv4(bytesOf('0100007F', 4))).toBe('127.0.0.1');
    expect(formatIpv4(bytesOf('00000000', 4))).toBe('0.0.0.0');
    expect(formatIpv4(bytesOf('0112A8C0', 4))).toBe('192.168.18.1');
  });

  it('decodes IPv6 words with the bytes of each word reversed', () => {
    expect(formatIpv6(bytesOf('00000000000000000000000001000000', 16))).toBe('::1');
    expect(formatIpv6(bytesOf('00000000000000000000000000000000', 16))).toBe('::');
    expect(formatIpv6(bytesOf('0000000000000000FFFF00000100007F', 16))).toBe('::ffff:127.0.0.1');
    expect(formatIpv6(bytesOf('B80D0120000000000000000001000000', 16))).toBe('2001:db8::1');
    expect(formatIpv6(bytesOf('000080FE00000000FF160002108C1FFE', 16))).toBe('fe80::200:16ff:fe1f:8c10');
  });

  it('rejects non-hex digits', () => {
    expect(decodeKernelAddress(Buffer.from('0100007G'), 0, 8, new Uint8Array(4))).toBe(false);
  });

  it('prints like glibc inet_ntop: first longest zero run, dotted IPv4 tails', () => {
    const v6 = (words: number[]): string => {
      const bytes = new Uint8Array(16);
      words.forEach((w, i) => {
        bytes[2 * i] = w >> 8;
        bytes[2 * i + 1] = w & 0xff;
      });
      return formatIpv6(bytes);
    };
    expect(v6([1, 0, 0, 1, 0, 0, 0, 1])).toBe('1:0:0:1::1');
    expect(v6([1, 0, 0, 1, 0, 0, 1, 1])).toBe('1::1:0:0:1:1');
    expect(v6([1, 2, 3, 4, 5, 6, 0, 8])).toBe('1:2:3:4:5:6:0:8');
    expect(v6([0, 0, 0, 0, 0, 0, 0, 2])).toBe('::2');
    expect(v6([0, 0, 0, 0, 0, 0, 0x7f00, 1])).toBe('::127.0.0.1');
    expect(v6([0, 0, 0, 0, 0, 0xffff, 0x0a00, 1])).toBe('::ffff:10.0.0.1');
    expect(v6([0, 0, 0, 0, 0, 0xff, 0, 1])).toBe('::ff:0:1');
    expect(v6([0, 0, 0, 0, 0, 0, 0xff, 1])).toBe('::0.255.0.1');
    expect(v6([0xfe80, 0, 0, 0, 0, 0, 0, 0])).toBe('fe80::');
  });
});

describe('address round trips (property)', () => {
  it('IPv4: bytes -> kernel hex -> bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        const back = bytesOf(encodeKernelAddress(bytes), 4);
        expect([...back]).toEqual([...bytes]);
        expect(formatIpv4(back)).toBe([...bytes].join('.'));
      }),
    );
  });

  it('IPv6: bytes -> kernel hex -> text names the same address', () => {
    const interesting = fc.oneof(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      // Zero runs of every length and place, where compression rules bite.
      fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
        minLength: 8,
        maxLength: 8,
      }).map((words) => new Uint8Array(words.flatMap((w) => [w >> 8, w & 0xff]))),
    );
    fc.assert(
      fc.property(interesting, (bytes) => {
        const back = bytesOf(encodeKernelAddress(bytes), 16);
        expect([...back]).toEqual([...bytes]);
        const text = formatIpv6(back);
        expect(canonical(text)).toBe(canonical(fullForm(bytes)));
        expect(text).not.toMatch(/:::|[A-F]/);
      }),
      { numRuns: 2000 },
    );
  });

  it('recognises IPv4-mapped addresses', () => {
    expect(isIpv4Mapped(bytesOf('0000000000000000FFFF00000100007F', 16))).toBe(true);
    expect(isIpv4Mapped(bytesOf('00000000000000000000000001000000', 16))).toBe(false);
  });
});
