// Seed corpora for the libFuzzer targets, generated (never committed): `tsx
// fuzz/make-corpus.ts <out-dir>` writes <out>/rtp/ (RTP datagrams from every stream in
// ../shared/captures, a few per stream, plus their CSRC/extension/padding variants),
// <out>/sdp/ (the field shapes from FIELD-NOTES and SDPs built from the captures' stream
// formats) and <out>/sap/ (those SDPs in SAP announcements and deletions, plain and
// compressed) and <out>/rtsp/ (RAVENNA RTSP exchanges: DESCRIBE, 200 with those SDPs,
// ANNOUNCE, errors; CRLF and LF, pipelined) and <out>/mdns/ (DNS-SD queries and answers
// for RAVENNA sessions). Run by fuzz/CMakeLists.txt at build time.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { openCapture } from '../lab/net/pcap/reader.ts';
import { sharedCaptures, sharedCapturesDir } from '../lab/net/pcap/shared-captures.ts';
import { UdpDecoder } from '../lab/net/pcap/udp.ts';
import { parseRtp, serializeRtp, RtpParseError } from '../lab/net/rtp.ts';
import { buildAes67Sdp } from '../lab/net/sdp.ts';
import { buildSap } from '../lab/net/sap.ts';
import { formatRequest, formatResponse, ravennaSessionUrl } from '../lab/net/rtsp-message.ts';
import { encodeDns } from '../lab/net/mdns.ts';

const out = process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), 'corpus');
const dirs = { ptp: path.join(out, 'ptp'), rtp: path.join(out, 'rtp'), sdp: path.join(out, 'sdp'), sap: path.join(out, 'sap'), rtsp: path.join(out, 'rtsp'), mdns: path.join(out, 'mdns') };
for (const d of Object.values(dirs)) {
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
}
const put = (dir: string, bytes: Uint8Array | string) => {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  writeFileSync(path.join(dir, createHash('sha1').update(b).digest('hex')), b);
};

// RTP: up to 4 packets per stream (destination) of every capture, and what the stream's
// format says about it (for SDP seeds).
const formats = new Map<string, { destination: string; port: number; payloadType: number; bytesPerFrame: number }>();
let captures = 0;
let ptpSeeds = 0;
const captureFiles = sharedCaptures();
if (captureFiles.length === 0) {
  console.log(`fuzz corpus: SKIPPING the capture seeds: ${sharedCapturesDir} is absent or holds no .pcap/.pcapng (the RTP and PTP targets start from an empty corpus; SDP, SAP, RTSP and mDNS keep their lab-made seeds)`);
}
for (const file of captureFiles) {
  captures++;
  const udp = new UdpDecoder();
  const seen = new Map<string, number>();
  let frames = 0;
  const ptpRun: Uint8Array[] = [];
  for (const frame of openCapture(file)) {
    if (++frames > 20000) break;
    const d = udp.decode(frame);
    if (!d) continue;
    // PTP (319 event, 320 general): fuzz_ptp reads [length][time step (100 us units), 2 bytes][datagram]...;
    // the capture's first 32 PTP datagrams, one seed each and all in one seed, 1 ms apart.
    if (d.destinationPort === 319 || d.destinationPort === 320) {
      if (ptpRun.length < 32 && d.payload.length <= 255) {
        const framed = Uint8Array.of(d.payload.length, 0, 10, ...d.payload);
        put(dirs.ptp, framed);
        ptpRun.push(framed);
        ptpSeeds++;
      }
      continue;
    }
    const key = `${d.destinationIp}:${d.destinationPort}`;
    const n = seen.get(key) ?? 0;
    if (n >= 4) continue;
    seen.set(key, n + 1);
    put(dirs.rtp, d.payload);
    try {
      const p = parseRtp(d.payload);
      put(dirs.rtp, serializeRtp({ ...p, csrcs: [1, 2], extension: { profile: 0xbede, data: Uint8Array.of(1, 2, 3, 4) }, padding: true }));
      if (!formats.has(key)) {
        const ip = d.destinationIp;
        formats.set(key, { destination: `${ip >>> 24}.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`, port: d.destinationPort, payloadType: p.payloadType, bytesPerFrame: p.payload.length });
      }
    } catch (e) {
      if (!(e instanceof RtpParseError)) throw e;
    }
  }
  if (ptpRun.length > 1) put(dirs.ptp, Buffer.concat(ptpRun));
}

// SDP: field shapes (FIELD-NOTES: Dante, RAVENNA; VLC's SAP SDP; ffmpeg's) and one AES67
// SDP per capture stream.
const sdps = [
  ['v=0', 'o=- 1423986 1423994 IN IP4 10.67.20.11', 's=AVIOUSB-1e1a2b : 2', 'c=IN IP4 239.69.83.67/32', 't=0 0', 'a=keywds:Dante',
    'm=audio 5004 RTP/AVP 97', 'i=2 channels: Left, Right', 'a=recvonly', 'a=rtpmap:97 L24/48000/2', 'a=ptime:1',
    'a=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0', 'a=mediaclk:direct=3271884240', ''].join('\r\n'),
  ['v=0', 'o=- 17 3 IN IP4 10.67.20.12', 's=Stage Box 125', 't=0 0', 'a=clock-domain:PTPv2 0', 'm=audio 5004 RTP/AVP 98',
    'c=IN IP4 239.1.20.12/15', 'a=rtpmap:98 L16/48000/8', 'a=source-filter: incl IN IP4 239.1.20.12 10.67.20.12', 'a=sync-time:0',
    'a=framecount:6', 'a=ptime:0.12', 'a=maxptime:0.25', 'a=ts-refclk:ptp=IEEE1588-2008:00-1d-c1-ff-fe-00-00-0a:0', 'a=mediaclk:direct=0',
    'a=sendonly', ''].join('\n'),
  ['v=0', 'o=- 17199557113756415248 17199557113756415248 IN IP4 vm', 's=LabTone', 'i=N/A', 'c=IN IP4 239.255.100.1/255', 't=0 0',
    'a=tool:vlc 3.0', 'a=recvonly', 'a=type:broadcast', 'a=charset:UTF-8', 'm=audio 5004 RTP/AVP 96', 'b=AS:1536', 'b=RR:0',
    'a=rtpmap:96 L16/48000/2', ''].join('\r\n'),
  ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=No Name', 'c=IN IP4 127.0.0.1', 't=0 0', 'a=tool:libavformat', 'm=audio 41010 RTP/AVP 97',
    'b=AS:2304', 'a=rtpmap:97 L24/48000/2', ''].join('\r\n'),
];
let i = 0;
for (const f of formats.values()) {
  for (const [encoding, bytes] of [['L16', 2], ['L24', 3]] as const) {
    sdps.push(buildAes67Sdp({
      name: `capture stream ${i++}`, origin: { username: '-', sessionId: String(i), sessionVersion: '1', address: '10.67.20.1' },
      destination: f.destination, port: f.port, ttl: 32, encoding, sampleRate: 48000, channels: Math.max(1, Math.round(f.bytesPerFrame / bytes / 48)),
      ptimeUs: 1000, framesPerPacket: 48, payloadType: f.payloadType, ptpRefclk: { gmid: '00-1D-C1-FF-FE-00-00-01', domain: 0 }, mediaclkOffset: 0,
      direction: 'sendonly', sourceFilter: '10.67.20.1',
    }));
  }
}
for (const s of sdps) put(dirs.sdp, s);

// SAP: each SDP announced, deleted, with and without payload type, compressed.
sdps.forEach((sdp, n) => {
  for (const messageType of ['announce', 'delete'] as const) {
    put(dirs.sap, buildSap({ messageType, msgIdHash: n + 1, origin: '10.67.20.1', sdp }));
  }
  put(dirs.sap, buildSap({ messageType: 'announce', msgIdHash: n + 1, origin: '10.67.20.1', sdp, omitPayloadType: true }));
  put(dirs.sap, buildSap({ messageType: 'announce', msgIdHash: n + 1, origin: '10.67.20.1', sdp, compressed: true }));
});
// RTSP: what a RAVENNA session server and the engine's client say to each other (FIELD-NOTES "RAVENNA").
/** The message with bare-LF line ends in its head (the body is left as it is). */
const lfHead = (message: string) => {
  const end = message.indexOf('\r\n\r\n') + 4;
  return message.slice(0, end).replace(/\r\n/g, '\n') + message.slice(end);
};
const url = ravennaSessionUrl('10.67.180.1', 554, 'Stage box 1, mix');
const describeReq = formatRequest('DESCRIBE', url, [['CSeq', 1], ['User-Agent', 'aes67-lab engine'], ['Accept', 'application/sdp']]);
put(dirs.rtsp, describeReq);
put(dirs.rtsp, formatRequest('OPTIONS', url, [['CSeq', 1]]) + formatResponse(200, 'OK', [['CSeq', 1], ['Public', 'OPTIONS, DESCRIBE']]));
for (const [status, reason] of [[404, 'Not Found'], [405, 'Method Not Allowed'], [406, 'Not Acceptable'], [400, 'Bad Request']] as const) {
  put(dirs.rtsp, formatResponse(status, reason, [['CSeq', 1], ['Server', 'aes67-lab RAVENNA emulator']]));
}
sdps.forEach((sdp, n) => {
  const ok = formatResponse(200, 'OK', [['CSeq', 1], ['Content-Base', `${url}/`], ['Content-Type', 'application/sdp']], sdp);
  const announce = formatRequest('ANNOUNCE', url, [['CSeq', n + 1], ['Content-Type', 'application/sdp']], sdp);
  put(dirs.rtsp, ok);
  put(dirs.rtsp, ok + announce);
  put(dirs.rtsp, `${lfHead(ok)}\n${lfHead(announce)}`); // bare-LF framing, a blank line between
});
// mDNS: a browser's question, and a RAVENNA device's answer with its additional records.
const browse = '_ravenna_session._sub._rtsp._tcp.local';
put(dirs.mdns, encodeDns({ type: 'query', id: 0, flags: 0, questions: [{ name: browse, type: 'PTR' }] }));
for (const session of ['Stage box 1, mix', 'Régie 2']) {
  const fqdn = `${session}._rtsp._tcp.local`;
  put(dirs.mdns, encodeDns({
    type: 'response', id: 0, flags: 0x8400,
    answers: [{ name: browse, type: 'PTR', ttl: 4500, data: fqdn }],
    additionals: [
      { name: fqdn, type: 'SRV', ttl: 120, flush: true, data: { port: 554, target: 'horus.local', priority: 0, weight: 0 } },
      { name: fqdn, type: 'TXT', ttl: 4500, flush: true, data: [''] },
      { name: 'horus.local', type: 'A', ttl: 120, flush: true, data: '10.67.180.1' },
    ],
  }));
  put(dirs.mdns, encodeDns({ type: 'response', id: 0, flags: 0x8400, answers: [{ name: browse, type: 'PTR', ttl: 0, data: fqdn }] }));
}
console.log(`fuzz corpus: ${captures} captures, ${formats.size} streams, ${ptpSeeds} PTP datagrams, ${sdps.length} SDPs -> ${out}`);
