import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { CaptureReader } from './reader.ts';
import { UdpDecoder, formatIpv4 } from './udp.ts';
import { tsharkFields } from '../tshark.ts';
import { withTempDir } from '../test-support.ts';
import { buildUdpFrame } from '../udp-frame.ts';

// Written by Python, not by the lab's writer: big-endian sections, if_tsresol as a power of
// two and of ten, simple packet blocks, an obsolete packet block, a second section.
const WRITER = String.raw`
import struct, sys
frames = [bytes.fromhex(h) for h in sys.stdin.read().split()]
def block(e, t, body):
    body += b'\0' * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(e + 'II', t, n) + body + struct.pack(e + 'I', n)
def opt(e, code, val):
    return struct.pack(e + 'HH', code, len(val)) + val + b'\0' * (-len(val) % 4)
def shb(e):
    return block(e, 0x0A0D0D0A, struct.pack(e + 'IHHq', 0x1A2B3C4D, 1, 0, -1))
def idb(e, resol):
    return block(e, 1, struct.pack(e + 'HHI', 1, 0, 65535) + opt(e, 9, bytes([resol])) + opt(e, 0, b''))
def epb(e, ifc, ts, data):
    return block(e, 6, struct.pack(e + 'IIII', ifc, ts >> 32, ts & 0xffffffff, len(data)) + struct.pack(e + 'I', len(data)) + data)
out = b''
# Section 1, big-endian: microseconds (default) and 2^-20 s interfaces.
out += shb('>') + idb('>', 6) + idb('>', 0x80 | 20)
out += epb('>', 0, 1700000000 * 10**6 + 123456, frames[0])
out += epb('>', 1, (1700000001 << 20) + (1 << 19), frames[1])
out += block('>', 3, struct.pack('>I', len(frames[2])) + frames[2])
out += block('>', 2, struct.pack('>HHIII', 0, 0, (1700000002 * 10**6) >> 32, (1700000002 * 10**6) & 0xffffffff, len(frames[3])) + struct.pack('>I', len(frames[3])) + frames[3])
# Section 2, little-endian, nanoseconds: interface ids start again at 0.
out += shb('<') + idb('<', 9)
out += epb('<', 0, 1700000003 * 10**9 + 999999999, frames[4])
sys.stdout.buffer.write(out)
`;

describe('pcapng variants', () => {
  it('reads big-endian sections, power-of-two resolutions, SPB, obsolete PB and a second section as tshark does', () => {
    const frames = [0, 1, 2, 3, 4].map((i) => Buffer.from(buildUdpFrame({ sourceIp: '10.67.20.1', destinationIp: '10.67.20.2', sourcePort: 1000 + i, destinationPort: 2000, payload: new Uint8Array(10 + i).fill(i) })).toString('hex'));
    withTempDir((dir) => {
      const file = path.join(dir, 'variants.pcapng');
      const bytes = execFileSync('python3', ['-c', WRITER], { input: frames.join(' ') });
      writeFileSync(file, bytes);
      const theirs = tsharkFields(file, ['frame.time_epoch', 'frame.interface_id', 'udp.srcport', 'frame.len']);
      const decoder = new UdpDecoder();
      const ours = Array.from(new CaptureReader(file), (f) => {
        const d = decoder.decode(f)!;
        return [f.hasTimestamp ? `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}` : '', String(f.interfaceId), String(d.sourcePort), String(f.data.length), formatIpv4(d.sourceIp)];
      });
      expect(ours.length).toBe(5);
      ours.forEach((o, i) => {
        // tshark shows a simple packet block's missing time as the epoch; we say there is none.
        if (o[0] !== '') expect(o[0]).toBe(theirs[i][0]);
        expect(o.slice(1, 4)).toEqual(theirs[i].slice(1, 4));
      });
      expect(ours[2][0]).toBe('');
    });
  });
});
