import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildSap, parseSap, SapParseError, SAP_GROUP_DANTE, SAP_PORT } from './sap.ts';
import { tsharkFields, tsharkProblems } from './tshark.ts';
import { withTempDir, writeUdpCapture } from './test-support.ts';

const SDP = 'v=0\r\no=- 1 1 IN IP4 10.67.20.5\r\ns=AVIO USB : 2\r\nc=IN IP4 239.69.20.5/32\r\nt=0 0\r\nm=audio 5004 RTP/AVP 97\r\na=rtpmap:97 L24/48000/2\r\na=ptime:1\r\n';

describe('SAP codec', () => {
  it('agrees with tshark on announcements and deletions it builds', () => {
    const cases = [
      { messageType: 'announce' as const, msgIdHash: 0x1234, origin: '10.67.20.5', sdp: SDP },
      { messageType: 'delete' as const, msgIdHash: 0xfffe, origin: '10.67.20.6', sdp: SDP },
      { messageType: 'announce' as const, msgIdHash: 7, origin: '10.67.20.7', sdp: SDP, omitPayloadType: true },
    ];
    withTempDir((dir) => {
      const file = path.join(dir, 'sap.pcapng');
      const packets = cases.map((c) => buildSap(c));
      writeUdpCapture(file, packets.map((payload) => ({ sourceIp: '10.67.20.5', destinationIp: SAP_GROUP_DANTE, sourcePort: SAP_PORT, destinationPort: SAP_PORT, payload })));
      expect(tsharkProblems(file)).toEqual([]);
      const rows = tsharkFields(file, ['sap.flags.v', 'sap.flags.t', 'sap.flags.c', 'sap.message_identifier_hash', 'sap.originating_source', 'sap.payload_type', 'sdp.session_name']);
      rows.forEach(([v, t, c, hash, origin, payloadType, sessionName], i) => {
        const ours = parseSap(packets[i]);
        expect(ours.version).toBe(Number(v));
        expect(ours.messageType).toBe(t === 'True' || t === '1' ? 'delete' : 'announce');
        expect(ours.compressed).toBe(c === 'True' || c === '1');
        expect(ours.msgIdHash).toBe(Number(hash));
        expect(ours.origin).toBe(origin);
        if (payloadType !== '') expect(ours.payloadType).toBe(payloadType);
        expect(ours.sdp).toContain(`s=${sessionName}\r\n`);
        expect(ours.sdp).toBe(SDP);
      });
    });
  });

  it('reads payloads compressed by another zlib (Python) and skips authentication data', () => {
    const script = [
      'import sys, zlib',
      'sdp = sys.stdin.buffer.read()',
      // V=1, T=announce, C=1; auth length 1 word; hash 0xabcd; origin 10.67.20.9
      'hdr = bytes([0x21, 1, 0xab, 0xcd, 10, 67, 20, 9]) + bytes([0x10, 0, 0, 0])',
      'sys.stdout.buffer.write(hdr + zlib.compress(b"application/sdp\\0" + sdp))',
    ].join('\n');
    const packet = execFileSync('python3', ['-c', script], { input: SDP });
    const sap = parseSap(packet);
    expect(sap).toMatchObject({ compressed: true, msgIdHash: 0xabcd, origin: '10.67.20.9', payloadType: 'application/sdp', sdp: SDP });
  });

  it('rejects malformed packets by reason and never throws anything else', () => {
    expect(() => parseSap(Uint8Array.of(0x20, 0, 0))).toThrow(expect.objectContaining({ reason: 'truncated' }));
    expect(() => parseSap(Uint8Array.of(0x40, 0, 0, 0, 1, 2, 3, 4))).toThrow(expect.objectContaining({ reason: 'bad-version' }));
    expect(() => parseSap(Uint8Array.of(0x21, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9))).toThrow(expect.objectContaining({ reason: 'decompress-failed' }));
    expect(() => parseSap(Uint8Array.of(0x20, 5, 0, 0, 1, 2, 3, 4))).toThrow(expect.objectContaining({ reason: 'truncated' }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        try {
          parseSap(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(SapParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
