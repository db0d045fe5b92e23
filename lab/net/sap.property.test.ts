// Properties of the lab's SAP parser (lab/net/sap.ts) on any bytes — random, random with
// version 1, built announcements and deletions (compressed or not) with damage — in a
// bounded worker: a packet with at most 64 KiB of SDP, or a SapParseError with a
// documented reason. And a compression bomb is refused, not inflated.
import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { checkBounded } from './bounded-property.ts';
import { parseSap, SapParseError } from './sap.ts';

describe('SAP parser properties', () => {
  it('any bytes: a packet with at most 64 KiB of SDP, or a SapParseError with a documented reason', async () => {
    const r = await checkBounded('sap packets', { numRuns: 4000, seed: 0x53415001 });
    expect(r.runs).toBeGreaterThanOrEqual(4000);
  });

  it('refuses a compressed payload that inflates past 64 KiB (16 MiB of zeros in ~16 KiB) with decompress-failed', () => {
    const bomb = deflateSync(new Uint8Array(16 << 20), { level: 9 });
    const packet = new Uint8Array(8 + bomb.length);
    packet.set([0x21, 0, 0x12, 0x34, 10, 67, 20, 1]);
    packet.set(bomb, 8);
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(() => parseSap(packet)).toThrow(expect.objectContaining({ name: 'SapParseError', reason: 'decompress-failed' }));
    expect(() => parseSap(packet)).toThrow(SapParseError);
  });
});
