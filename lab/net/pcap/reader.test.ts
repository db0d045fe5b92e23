import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { CaptureFormatError, CaptureReader } from './reader.ts';
import { UdpDecoder, formatIpv4 } from './udp.ts';
import { sharedCaptures } from './shared-captures.ts';
import { tsharkFields } from '../tshark.ts';
import { withTempDir } from '../test-support.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW, PcapngWriter } from './pcapng-writer.ts';
import { buildUdpFrame } from '../udp-frame.ts';

const captures = sharedCaptures();
if (captures.length === 0) console.warn('../shared/captures is absent: the shared-capture reader tests are skipped');

function ourFrames(file: string) {
  const decoder = new UdpDecoder();
  return Array.from(new CaptureReader(file), (f) => {
    const u = decoder.decode(f);
    return {
      time: `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`,
      len: f.data.length,
      sha: createHash('sha1').update(f.data).digest('hex').slice(0, 12),
      udp: u ? `${formatIpv4(u.sourceIp)}:${u.sourcePort}>${formatIpv4(u.destinationIp)}:${u.destinationPort}/${u.udpLength - 8}` : '',
    };
  });
}

function tsharkView(file: string) {
  return tsharkFields(file, ['frame.time_epoch', 'frame.cap_len', 'ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport', 'udp.length', 'ip.proto'], ['-o', 'ip.defragment:TRUE']).map((r) => ({
    time: r[0],
    len: Number(r[1]),
    // ICMP errors quote a UDP header: only a top-level UDP datagram counts.
    udp: r[3] !== '' && r[7] === '17' ? `${r[2]}:${r[3]}>${r[4]}:${r[5]}/${Number(r[6]) - 8}` : '',
  }));
}

/** Rewrites a little-endian pcap as big-endian (what a SPARC or PowerPC host writes). */
function toBigEndianPcap(input: Buffer): Buffer {
  const out = Buffer.from(input);
  for (const o of [0, 8, 12, 16, 20]) out.writeUInt32BE(input.readUInt32LE(o), o);
  out.writeUInt16BE(input.readUInt16LE(4), 4);
  out.writeUInt16BE(input.readUInt16LE(6), 6);
  for (let p = 24; p + 16 <= input.length; ) {
    for (let k = 0; k < 16; k += 4) out.writeUInt32BE(input.readUInt32LE(p + k), p + k);
    p += 16 + input.readUInt32LE(p + 8);
  }
  return out;
}

describe('capture reader', () => {
  it.each(captures)('reads %s frame by frame as tshark does, in every file format', (file) => {
    const expected = tsharkView(file);
    const ours = ourFrames(file);
    expect(ours.map(({ time, len, udp }) => ({ time, len, udp }))).toEqual(expected);
    withTempDir((dir) => {
      for (const format of ['pcapng', 'pcap', 'nsecpcap']) {
        const converted = path.join(dir, `${format}.cap`);
        execFileSync('editcap', ['-F', format, file, converted]);
        const again = ourFrames(converted);
        // µs pcap drops the last three digits of the time stamp.
        const times = expected.map((e) => (format === 'pcap' ? `${e.time.slice(0, -3)}000` : e.time));
        expect(again.map((f) => f.time)).toEqual(times);
        expect(again.map((f) => f.sha)).toEqual(ours.map((f) => f.sha));
      }
      const swapped = path.join(dir, 'be.pcap');
      execFileSync('editcap', ['-F', 'nsecpcap', file, path.join(dir, 'le.pcap')]);
      writeFileSync(swapped, toBigEndianPcap(readFileSync(path.join(dir, 'le.pcap'))));
      expect(tsharkView(swapped)).toEqual(expected);
      expect(ourFrames(swapped)).toEqual(ours);
    });
  });

  it('holds a bounded window of a large file, not the file', () => {
    withTempDir((dir) => {
      const file = path.join(dir, 'large.pcapng');
      const w = new PcapngWriter(file);
      const ifc = w.addInterface({ linkType: LINKTYPE_ETHERNET });
      const frame = buildUdpFrame({ sourceIp: '10.67.20.1', destinationIp: '239.69.20.1', sourcePort: 5004, destinationPort: 5004, payload: new Uint8Array(1400) });
      for (let i = 0; i < 24_000; i++) w.writePacket(ifc, BigInt(i) * 125_000n, frame); // ~35 MB
      w.close();
      const reader = new CaptureReader(file);
      let frames = 0;
      let maxWindow = 0;
      for (let f = reader.next(); f; f = reader.next()) {
        frames++;
        maxWindow = Math.max(maxWindow, reader.bufferBytes);
      }
      reader.close();
      expect(frames).toBe(24_000);
      expect(maxWindow).toBeLessThanOrEqual(1 << 20);
      expect(statSync(file).size).toBeGreaterThan(30 * maxWindow);
    });
  });

  it('reads pcapng with several interfaces of different link types and resolutions', () => {
    withTempDir((dir) => {
      const file = path.join(dir, 'multi.pcapng');
      const w = new PcapngWriter(file);
      const frame = (i: number) => buildUdpFrame({ sourceIp: '10.67.20.1', destinationIp: '239.69.20.1', sourcePort: 5004 + i, destinationPort: 5004, payload: new Uint8Array(20 + i).fill(i), dscp: 34 });
      const eth = w.addInterface({ linkType: LINKTYPE_ETHERNET, name: 'eth' });
      const raw = w.addInterface({ linkType: LINKTYPE_RAW, name: 'raw' });
      const sll = w.addInterface({ linkType: LINKTYPE_LINUX_SLL, name: 'sll' });
      const sll2 = w.addInterface({ linkType: LINKTYPE_LINUX_SLL2, name: 'sll2' });
      const vlanFrame = (f: Uint8Array) => Uint8Array.from([...f.subarray(0, 12), 0x81, 0x00, 0x20, 0x2a, ...f.subarray(12)]); // VLAN 42, PCP 1
      const sllHeader = (ip: Uint8Array) => Uint8Array.from([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00].slice(0, 14).concat([0x08, 0x00]).concat(Array.from(ip)));
      const sll2Header = (ip: Uint8Array) => Uint8Array.from([0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...ip]);
      const t0 = 1_700_000_000_123_456_789n;
      w.writePacket(eth, t0, frame(0), 'lab event: start');
      w.writePacket(raw, t0 + 1n, frame(1).subarray(14));
      w.writePacket(sll, t0 + 2n, sllHeader(frame(2).subarray(14)));
      w.writePacket(sll2, t0 + 3n, sll2Header(frame(3).subarray(14)));
      w.writePacket(eth, t0 + 4n, vlanFrame(frame(4)), 'tagged');
      w.close();
      // The writer's output opens in tshark without a warning, and reads as tshark reads it.
      const warnings = execFileSync('tshark', ['-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(warnings).not.toMatch(/malformed|cut short|appears to be damaged/i);
      expect(ourFrames(file).map(({ time, len, udp }) => ({ time, len, udp }))).toEqual(tsharkView(file));
      const comments = tsharkFields(file, ['frame.comment', 'vlan.id', 'ip.dsfield.dscp']);
      const frames = Array.from(new CaptureReader(file), (f) => ({ comment: f.comment ?? '', vlan: new UdpDecoder().decode(f)?.vlan, dscp: new UdpDecoder().decode(f)?.dscp }));
      expect(frames.map((f) => f.comment)).toEqual(comments.map((c) => c[0]));
      expect(frames.map((f) => (f.vlan === -1 ? '' : String(f.vlan)))).toEqual(comments.map((c) => c[1]));
      expect(frames.map((f) => String(f.dscp))).toEqual(comments.map((c) => c[2]));
    });
  });

  it('reassembles IPv4 fragments as tshark does', () => {
    withTempDir((dir) => {
      const file = path.join(dir, 'frag.pcapng');
      const w = new PcapngWriter(file);
      const eth = w.addInterface({ linkType: LINKTYPE_ETHERNET });
      const payload = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
      const whole = buildUdpFrame({ sourceIp: '10.67.20.1', destinationIp: '10.67.20.2', sourcePort: 4000, destinationPort: 4001, payload, identification: 0x1234 });
      const ipPayload = whole.subarray(14 + 20);
      const fragments: Uint8Array[] = [];
      for (let off = 0; off < ipPayload.length; off += 1480) {
        const chunk = ipPayload.subarray(off, off + 1480);
        const f = Uint8Array.from([...whole.subarray(0, 34), ...chunk]);
        const dv = new DataView(f.buffer);
        dv.setUint16(16, 20 + chunk.length);
        dv.setUint16(20, (off + 1480 < ipPayload.length ? 0x2000 : 0) | (off / 8));
        dv.setUint16(24, 0);
        let sum = 0;
        for (let i = 14; i < 34; i += 2) sum += dv.getUint16(i);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        dv.setUint16(24, ~sum & 0xffff);
        fragments.push(f);
      }
      // Out of order, and a lone fragment of another datagram that never completes.
      [fragments[1], fragments[0], fragments[2]].forEach((f, i) => w.writePacket(eth, 1_700_000_000_000_000_000n + BigInt(i), f));
      const lone = Uint8Array.from(fragments[0]);
      lone[19] = 0x99; // other identification
      lone[24] = 0;
      lone[25] = 0;
      w.close();
      const decoder = new UdpDecoder();
      const datagrams = Array.from(new CaptureReader(file), (f) => decoder.decode(f)).filter((d) => d !== undefined);
      const theirs = tsharkFields(file, ['udp.length', 'data.data'], ['-o', 'ip.defragment:TRUE']).filter((r) => r[0] !== '');
      expect(datagrams.length).toBe(theirs.length);
      expect(datagrams[0]!.reassembled).toBe(true);
      expect(Buffer.from(datagrams[0]!.payload).toString('hex')).toBe(theirs[0][1].replace(/:/g, ''));
      expect(decoder.counters.fragments).toBe(3);
    });
  });

  it('reports empty, unknown, truncated and corrupt files with the byte offset, as far as tshark reads them', () => {
    withTempDir((dir) => {
      const empty = path.join(dir, 'empty.pcap');
      writeFileSync(empty, '');
      expect(() => new CaptureReader(empty)).toThrow(/empty file.*byte offset 0/);
      const junk = path.join(dir, 'junk.pcap');
      writeFileSync(junk, 'hello, not a capture');
      expect(() => new CaptureReader(junk)).toThrow(/unknown magic.*byte offset 0/);
      const source = captures.find((c) => c.endsWith('st2110-30_24bit_48khz_1ms_2ch.pcap'));
      if (!source) return;
      const bytes = readFileSync(source);
      const headerOnly = path.join(dir, 'header-only.pcap');
      writeFileSync(headerOnly, bytes.subarray(0, 24));
      expect(Array.from(new CaptureReader(headerOnly)).length).toBe(0); // valid, no packets
      for (const cut of [10, 30, 1000, bytes.length - 7]) {
        const file = path.join(dir, `cut${cut}.pcap`);
        writeFileSync(file, bytes.subarray(0, cut));
        let count = 0;
        let error: unknown;
        try {
          for (const _ of new CaptureReader(file)) count++;
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(CaptureFormatError);
        expect((error as CaptureFormatError).offset).toBeLessThanOrEqual(cut);
        expect((error as Error).message).toMatch(/byte offset \d+/);
        // tshark reads the same whole frames before the cut (it exits 2 on a cut-short file).
        if (cut >= 24) {
          let out = '';
          try {
            out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
          } catch (e) {
            out = (e as { stdout: string }).stdout;
          }
          expect(count).toBe(out.split('\n').filter((l) => l !== '').length);
        }
      }
    });
  });

  it('never throws anything but CaptureFormatError on random or mutated bytes', () => {
    const seedCapture = captures.find((c) => c.endsWith('st2110-30_16bit_48khz_125us_2ch.pcap'));
    const base = seedCapture ? readFileSync(seedCapture) : Buffer.alloc(0);
    withTempDir((dir) => {
      const file = path.join(dir, 'fuzz.cap');
      const magic = fc.constantFrom([0xd4, 0xc3, 0xb2, 0xa1], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x0a, 0x0d, 0x0d, 0x0a]);
      const mutated = fc.tuple(fc.nat(Math.max(0, base.length - 1)), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, patch]) => {
        const b = Uint8Array.from(base);
        b.set(patch.subarray(0, b.length - at), at);
        return b;
      });
      const random = fc.tuple(magic, fc.uint8Array({ maxLength: 400 })).map(([m, rest]) => Uint8Array.from([...m, ...rest]));
      fc.assert(
        fc.property(fc.oneof(random, mutated), (bytes) => {
          writeFileSync(file, bytes);
          const decoder = new UdpDecoder();
          try {
            for (const f of new CaptureReader(file)) decoder.decode(f);
          } catch (e) {
            expect(e).toBeInstanceOf(CaptureFormatError);
          }
        }),
        { numRuns: 500 },
      );
    });
  });
});
