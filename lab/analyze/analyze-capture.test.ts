import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { analyzeCapture, type StreamReport } from './analyze-capture.ts';
import { tsharkRtpStreams, type TsharkRtpStream } from './tshark-rtp-streams.ts';
import { sharedCaptures } from '../net/pcap/shared-captures.ts';
import { CaptureReader } from '../net/pcap/reader.ts';
import { UdpDecoder, formatIpv4 } from '../net/pcap/udp.ts';
import { parseRtp } from '../net/rtp.ts';
import { LINKTYPE_ETHERNET, PcapngWriter } from '../net/pcap/pcapng-writer.ts';
import { buildSap } from '../net/sap.ts';
import { buildUdpFrame } from '../net/udp-frame.ts';
import { tsharkFields } from '../net/tshark.ts';
import { withTempDir } from '../net/test-support.ts';

const captures = sharedCaptures();
if (captures.length === 0) console.warn('../shared/captures is absent: the analyze-vs-tshark tests are skipped');

const ms = (x: number) => x.toFixed(3);

function compare(ours: StreamReport[], theirs: TsharkRtpStream[]) {
  const key = (s: { source: string; destination: string; ssrc: number }) => `${s.source}>${s.destination}#${s.ssrc}`;
  expect(ours.map(key).sort()).toEqual(theirs.map(key).sort());
  for (const t of theirs) {
    const o = ours.find((s) => key(s) === key(t))!;
    const w = o.wireshark;
    expect({ packets: o.packets, lost: o.lost, minDelta: ms(w.minDeltaMs), meanDelta: ms(w.meanDeltaMs), maxDelta: ms(w.maxDeltaMs), minJitter: ms(w.minJitterMs), meanJitter: ms(w.meanJitterMs), maxJitter: ms(w.maxJitterMs) }).toEqual({
      packets: t.packets,
      lost: t.lost,
      minDelta: t.minDeltaMs,
      meanDelta: t.meanDeltaMs,
      maxDelta: t.maxDeltaMs,
      minJitter: t.minJitterMs,
      meanJitter: t.meanJitterMs,
      maxJitter: t.maxJitterMs,
    });
  }
}

/** The sample rate the capture's name states (EBU LIST names them so); AES67's 48 kHz otherwise. */
function rateFromName(file: string): number {
  const m = /_(\d+)(?:khz|_)/i.exec(path.basename(file));
  if (!m) return 48000;
  const n = Number(m[1]);
  return n < 1000 ? n * 1000 : n;
}

/** The capture with a SAP announcement first, whose SDP gives each stream its clock rate. */
function withSdp(file: string, out: string, streams: StreamReport[], rate: number): void {
  const w = new PcapngWriter(out);
  const ifc = w.addInterface({ linkType: LINKTYPE_ETHERNET });
  let first = true;
  for (const f of new CaptureReader(file)) {
    const t = BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec);
    if (first) {
      streams.forEach((s, i) => {
        const [ip, port] = s.destination.split(':');
        const sdp = `v=0\r\no=- ${i} 1 IN IP4 10.67.20.1\r\ns=stream ${i}\r\nc=IN IP4 ${ip}/32\r\nt=0 0\r\nm=audio ${port} RTP/AVP ${s.payloadType}\r\na=rtpmap:${s.payloadType} L24/${rate}/2\r\na=ptime:1\r\n`;
        // Before the first frame, so Wireshark's relative times stay those of the original.
        w.writePacket(ifc, t - BigInt(streams.length - i), buildUdpFrame({ sourceIp: '10.67.20.1', destinationIp: '239.255.255.255', sourcePort: 9875, destinationPort: 9875, payload: buildSap({ messageType: 'announce', msgIdHash: i, origin: '10.67.20.1', sdp }) }));
      });
      first = false;
    }
    w.writePacket(ifc, t, f.data);
  }
  w.close();
}

describe.skipIf(captures.length === 0)(`analyze against tshark${captures.length === 0 ? ' (skipped: ../shared/captures is absent)' : ''}`, () => {
  it.each(captures)('%s: streams, packets, loss and Δ equal tshark -z rtp,streams; with an SDP, the jitter too', (file) => {
    const doc = analyzeCapture(file);
    const theirs = tsharkRtpStreams(file);
    compare(doc.streams, theirs);
    if (doc.streams.length === 0) return;
    const rate = rateFromName(file);
    for (const s of doc.streams) expect(s.sampleRate).toBe(rate);
    withTempDir((dir) => {
      const augmented = path.join(dir, 'with-sdp.pcapng');
      withSdp(file, augmented, doc.streams, rate);
      const augmentedDoc = analyzeCapture(augmented);
      const theirsWithSdp = tsharkRtpStreams(augmented);
      expect(theirsWithSdp.every((t) => t.payload === 'L24')).toBe(true); // tshark took the SDP
      compare(augmentedDoc.streams, theirsWithSdp);
      expect(augmentedDoc.sap.length).toBe(doc.streams.length);
      // The SDP says L24 / 2 ch / 1 ms: streams that are something else are flagged, others not.
      for (const s of augmentedDoc.streams) {
        const detected = doc.streams.find((x) => x.destination === s.destination)!;
        const same = detected.encoding === 'L24' && detected.channels === 2 && detected.ptimeUs === 1000;
        expect(s.formatMismatches.length === 0).toBe(same);
        expect(s.formatSource).toBe('sdp');
      }
    });
  });

  it.each(captures.filter((c) => /st2110|2022/.test(c)))('%s: every packet\'s sequence number and timestamp equal tshark -T fields', (file) => {
    const doc = analyzeCapture(file);
    const ports = [...new Set(doc.streams.map((s) => s.destination.split(':')[1]))];
    const decodeAs = ports.flatMap((p) => ['-d', `udp.port==${p},rtp`]);
    const theirs = tsharkFields(file, ['frame.time_epoch', 'ip.dst', 'udp.dstport', 'rtp.ssrc', 'rtp.seq', 'rtp.timestamp'], [...decodeAs, '-Y', 'rtp']).map((r) => r.join(' '));
    const decoder = new UdpDecoder();
    const ours: string[] = [];
    for (const f of new CaptureReader(file)) {
      const d = decoder.decode(f);
      if (!d || !ports.includes(String(d.destinationPort))) continue;
      const p = parseRtp(d.payload);
      ours.push(`${f.tsSec}.${String(f.tsNsec).padStart(9, '0')} ${formatIpv4(d.destinationIp)} ${d.destinationPort} 0x${p.ssrc.toString(16).padStart(8, '0')} ${p.sequenceNumber} ${p.timestamp}`);
    }
    expect(ours).toEqual(theirs);
    expect(doc.streams.reduce((n, s) => n + s.packets, 0)).toBe(theirs.length);
  });
});
