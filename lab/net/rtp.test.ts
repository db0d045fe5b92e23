import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import path from 'node:path';
import { parseRtp, RtpParseError, serializeRtp, type RtpPacket } from './rtp.ts';
import { tsharkFields, tsharkProblems } from './tshark.ts';
import { withTempDir, writeUdpCapture } from './test-support.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const rtpPacketArb: fc.Arbitrary<RtpPacket> = fc.record({
  padding: fc.boolean(),
  marker: fc.boolean(),
  payloadType: fc.integer({ min: 0, max: 127 }),
  sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
  timestamp: u32,
  ssrc: u32,
  csrcs: fc.array(u32, { maxLength: 15 }),
  extension: fc.option(
    fc.record({ profile: fc.integer({ min: 0, max: 0xffff }), data: fc.integer({ min: 0, max: 8 }).chain((w) => fc.uint8Array({ minLength: 4 * w, maxLength: 4 * w })) }),
    { nil: undefined },
  ),
  payload: fc.uint8Array({ minLength: 1, maxLength: 300 }),
});

function normalize(p: RtpPacket) {
  return { ...p, payload: Array.from(p.payload), extension: p.extension && { profile: p.extension.profile, data: Array.from(p.extension.data) } };
}

describe('RTP codec', () => {
  it('parses what it serializes', () => {
    fc.assert(
      fc.property(rtpPacketArb, (p) => {
        expect(normalize(parseRtp(serializeRtp(p)))).toEqual(normalize(p));
      }),
    );
  });

  it('agrees field by field with tshark on random packets, which tshark finds well-formed', () => {
    // RFC 5761 §4: with the marker set, payload types 64-95 look like RTCP packet types
    // 192-223, and Wireshark demultiplexes them as RTCP.
    const packets = fc.sample(rtpPacketArb.filter((p) => !p.marker || p.payloadType < 64 || p.payloadType > 95), { numRuns: 60, seed: 42 });
    withTempDir((dir) => {
      const file = path.join(dir, 'rtp.pcapng');
      writeUdpCapture(
        file,
        packets.map((p) => ({ sourceIp: '10.67.20.1', destinationIp: '239.69.20.1', sourcePort: 5004, destinationPort: 5004, payload: serializeRtp(p) })),
      );
      const decode = ['-d', 'udp.port==5004,rtp'];
      expect(tsharkProblems(file, decode)).toEqual([]);
      const rows = tsharkFields(file, ['rtp.padding', 'rtp.marker', 'rtp.p_type', 'rtp.seq', 'rtp.timestamp', 'rtp.ssrc', 'rtp.ext.profile', 'rtp.payload'], decode);
      const csrcRows = tsharkFields(file, ['rtp.csrc.item'], decode, 'a');
      expect(rows.length).toBe(packets.length);
      rows.forEach((row, i) => {
        const ours = parseRtp(serializeRtp(packets[i]));
        const [padding, marker, pt, seq, ts, ssrc, extProfile, payload] = row;
        const csrcs = csrcRows[i][0];
        expect(padding === 'True' || padding === '1').toBe(ours.padding);
        expect(marker === 'True' || marker === '1').toBe(ours.marker);
        expect(Number(pt)).toBe(ours.payloadType);
        expect(Number(seq)).toBe(ours.sequenceNumber);
        expect(Number(ts)).toBe(ours.timestamp);
        expect(Number(ssrc)).toBe(ours.ssrc);
        expect(csrcs === '' ? [] : csrcs.split(',').map(Number)).toEqual(ours.csrcs);
        expect(extProfile === '' ? undefined : Number(extProfile)).toBe(ours.extension?.profile);
        expect(payload.replace(/:/g, '')).toBe(Buffer.from(ours.payload).toString('hex'));
      });
    });
  });

  it('rejects malformed packets by reason and never throws anything else', () => {
    expect(() => parseRtp(new Uint8Array(11))).toThrow(expect.objectContaining({ reason: 'truncated' }));
    expect(() => parseRtp(Uint8Array.of(0x40, ...new Uint8Array(11)))).toThrow(expect.objectContaining({ reason: 'bad-version' }));
    const padded = serializeRtp({ padding: false, marker: false, payloadType: 97, sequenceNumber: 1, timestamp: 2, ssrc: 3, csrcs: [], payload: Uint8Array.of(1, 2, 3, 0) });
    padded[0] |= 0x20; // claims padding, but the count octet is 0
    expect(() => parseRtp(padded)).toThrow(expect.objectContaining({ reason: 'padding' }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          const p = parseRtp(bytes);
          expect(p.payload.length).toBeLessThanOrEqual(bytes.length);
        } catch (e) {
          expect(e).toBeInstanceOf(RtpParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
