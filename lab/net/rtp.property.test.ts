// Properties of the lab's RTP parser (lab/net/rtp.ts) on any bytes, in a bounded worker
// (a hang fails the test naming the input), and a crossing with the engine's C++ parser
// (engine/rtp/rtp_packet.cpp, through native): on every input both accept or both reject
// for the same reason, and accepted packets give the same fields.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadNative } from '../../native/index.ts';
import { checkBounded } from './bounded-property.ts';
import { applyDamage, damageArb, rtpPacketArb } from './parser-properties.ts';
import { parseRtp, RtpParseError, serializeRtp, type RtpParseErrorReason } from './rtp.ts';

// The engine has one reason, "truncated", for every announced part that is not there.
const ENGINE_REASON: Record<RtpParseErrorReason, string> = {
  truncated: 'truncated',
  'csrc-overflow': 'truncated',
  'extension-overflow': 'truncated',
  'bad-version': 'bad-version',
  padding: 'bad-padding',
};

describe('RTP parser properties', () => {
  it('any bytes: a packet that accounts for every byte, or an RtpParseError with a documented reason', async () => {
    const r = await checkBounded('rtp random bytes', { numRuns: 5000, seed: 0x52545001 });
    expect(r.runs).toBeGreaterThanOrEqual(5000);
  });

  it('damaged packets (bit flips, extreme length words, cuts, insertions): the same, and undamaged ones round-trip', async () => {
    const r = await checkBounded('rtp damaged packets', { numRuns: 5000, seed: 0x52545002 });
    expect(r.runs).toBeGreaterThanOrEqual(5000);
  });

  it('agrees with the engine\'s C++ parser on every input, accepted or rejected', () => {
    const native = loadNative();
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.tuple(rtpPacketArb, fc.array(damageArb, { maxLength: 6 })).map(([p, d]) => applyDamage(serializeRtp(p), d)),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        const engine = native.parseRtp(bytes);
        let ours;
        try {
          ours = parseRtp(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(RtpParseError);
          expect(engine.error).toBe(ENGINE_REASON[(e as RtpParseError).reason]);
          return;
        }
        expect(engine.error).toBeUndefined();
        if (engine.error !== undefined) return;
        expect(engine.padding).toBe(ours.padding);
        expect(engine.marker).toBe(ours.marker);
        expect(engine.payloadType).toBe(ours.payloadType);
        expect(engine.sequenceNumber).toBe(ours.sequenceNumber);
        expect(engine.timestamp).toBe(ours.timestamp);
        expect(engine.ssrc).toBe(ours.ssrc);
        expect(engine.csrcs).toEqual(ours.csrcs);
        expect(engine.extension?.profile).toBe(ours.extension?.profile);
        expect(engine.extension ? [...engine.extension.data] : undefined).toEqual(ours.extension ? [...ours.extension.data] : undefined);
        expect([...engine.payload]).toEqual([...ours.payload]);
      }),
      { numRuns: 5000, seed: 0x52545003 },
    );
  });
});
