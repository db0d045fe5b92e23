// `aes67-lab analyze`: two streaming passes over a capture (memory stays bounded). Pass 1
// finds SAP/SDP and each RTP stream's format; pass 2 measures with the clock rate known.
import { CaptureFormatError, CaptureReader, type CapturedFrame } from '../net/pcap/reader.ts';
import { formatIpv4, parseIpv4Number, UdpDecoder, type UdpDecodeCounters, type UdpDatagram } from '../net/pcap/udp.ts';
import { parseSap, SAP_PORT } from '../net/sap.ts';
import { describeAes67, type Aes67StreamDescription } from '../net/sdp.ts';
import { lintSdp, type LintFinding } from '../net/sdp-lint.ts';
import { detectFormat } from './format-detect.ts';
import { mostCommon, PIT_HISTOGRAM_BIN_US, RtpStreamAnalysis } from './rtp-stream.ts';
import { PtpAnalysis, type PtpSummary } from './ptp-summary.ts';
import { streamChecks, type Check, type ProfileName } from './profiles.ts';
import { endpointKey, StreamTable } from './stream-table.ts';

export const ANALYSIS_SCHEMA_VERSION = 1;
const PTP_PORTS = new Set([319, 320]);
const ETHERTYPE_PTP = 0x88f7;
/** Well-known non-RTP UDP services never taken for RTP. */
const NOT_RTP_PORTS = new Set([53, 67, 68, 123, 137, 138, 161, 319, 320, 514, 1900, 5353, 5355, SAP_PORT]);
const FORMAT_SAMPLE_PACKETS = 16;

/** RFC 3551 clock rates of static payload types, as Wireshark knows them. */
const STATIC_CLOCK_RATES: Record<number, number> = { 0: 8000, 3: 8000, 4: 8000, 5: 8000, 6: 16000, 7: 8000, 8: 8000, 9: 8000, 10: 44100, 11: 44100, 12: 8000, 13: 8000, 14: 90000, 15: 8000, 16: 11025, 17: 22050, 18: 8000, 25: 90000, 26: 90000, 28: 90000, 31: 90000, 32: 90000, 33: 90000, 34: 90000 };

export interface AnalyzeOptions {
  profile?: ProfileName;
  tsdfWindowMs?: number;
}

export interface StreamReport {
  index: number;
  source: string;
  destination: string;
  ssrc: number;
  ssrcHex: string;
  payloadType: number;
  firstFrame: number;
  packets: number;
  lost: number;
  duplicates: number;
  reordered: number;
  sequenceErrors: number;
  ssrcChanges: number;
  payloadSizeChanges: number;
  payloadSize: number | null;
  encoding: string | null;
  channels: number | null;
  sampleRate: number | null;
  ptimeUs: number | null;
  framesPerPacket: number | null;
  formatSource: 'sdp' | 'detected' | 'unknown';
  formatMismatches: string[];
  pitUs: { min: number; avg: number; max: number } | null;
  pitHistogram: { binUs: number; bins: { fromUs: number; count: number }[] };
  deltaUs: { min: number; avg: number; max: number } | null;
  tsdfUs: { max: number; windows: number; windowMs: number } | null;
  jitterUs: number | null;
  wireshark: { lost: number; minDeltaMs: number; meanDeltaMs: number; maxDeltaMs: number; minJitterMs: number; meanJitterMs: number; maxJitterMs: number; clockRate: number };
  dscp: number | null;
  dscpValues: number[];
  multicastMacMatch: boolean | null;
  streamsInGroup: number;
  checks: Check[];
}

export interface SapSessionReport {
  origin: string;
  msgIdHash: number;
  sessionName: string;
  announcements: number;
  deletions: number;
  firstFrame: number;
  sdp: string;
  lint: LintFinding[];
}

export interface AnalysisDocument {
  schemaVersion: number;
  file: string;
  format: string;
  profile: ProfileName;
  frames: number;
  durationS: number;
  udp: UdpDecodeCounters;
  captureError: { offset: number; message: string } | null;
  streams: StreamReport[];
  ptp: PtpSummary;
  sap: SapSessionReport[];
}

interface Candidate {
  sourceIp: number;
  sourcePort: number;
  destinationIp: number;
  destinationPort: number;
  ssrc: number;
  packets: number;
  consecutive: number;
  lastSeq: number;
  lastTs: number;
  lastNs: number;
  payloadSizes: Map<number, number>;
  tsSteps: Map<number, number>;
  intervalSumUs: number;
  intervals: number;
  samples: Uint8Array[];
  payloadType: number;
  /** Decided between the passes. */
  clockRate: number;
  description?: Aes67StreamDescription;
  format?: ReturnType<typeof detectFormat>;
}

const isMulticast = (ip: number) => ip >>> 28 === 0xe;

function macMatches(d: UdpDatagram): boolean | null {
  if (!isMulticast(d.destinationIp) || !d.destinationMac) return null;
  const m = d.destinationMac;
  return m[0] === 0x01 && m[1] === 0x00 && m[2] === 0x5e && m[3] === ((d.destinationIp >>> 16) & 0x7f) && m[4] === ((d.destinationIp >>> 8) & 0xff) && m[5] === (d.destinationIp & 0xff);
}

function isRtpCandidate(d: UdpDatagram): boolean {
  const p = d.payload;
  if (p.length < 12 || p[0] >> 6 !== 2 || d.truncated) return false;
  if (NOT_RTP_PORTS.has(d.destinationPort) || NOT_RTP_PORTS.has(d.sourcePort)) return false;
  return p[1] < 200 || p[1] > 204; // RTCP packet types (RFC 5761 §4)
}

/** Walks every frame; a damaged file stops the walk and is reported, frames before it count. */
function walk(file: string, onFrame: (f: CapturedFrame) => void): { error: CaptureFormatError | null; format: string } {
  const reader = new CaptureReader(file);
  try {
    for (let f = reader.next(); f; f = reader.next()) onFrame(f);
    return { error: null, format: reader.format };
  } catch (e) {
    if (e instanceof CaptureFormatError) return { error: e, format: reader.format };
    throw e;
  } finally {
    reader.close();
  }
}

export function analyzeCapture(file: string, options: AnalyzeOptions = {}): AnalysisDocument {
  const profile = options.profile ?? 'jtnm-2022';
  const tsdfWindowNs = (options.tsdfWindowMs ?? 200) * 1e6;

  // Pass 1: SAP sessions and stream formats.
  const candidates = new StreamTable<Candidate>();
  const sap = new Map<string, SapSessionReport>();
  const sdpByDestination = new Map<number, { frame: number; description: Aes67StreamDescription }>();
  let decoder = new UdpDecoder();
  let firstSec = -1;
  let firstNsec = 0;
  const first = walk(file, (f) => {
    if (firstSec < 0 && f.hasTimestamp) [firstSec, firstNsec] = [f.tsSec, f.tsNsec];
    const d = decoder.decode(f);
    if (!d) return;
    if (d.destinationPort === SAP_PORT) return collectSap(d, f, sap, sdpByDestination);
    if (!isRtpCandidate(d)) return;
    const p = d.payload;
    const ssrc = ((p[8] << 24) | (p[9] << 16) | (p[10] << 8) | p[11]) >>> 0;
    let c = candidates.get(d.sourceIp, d.sourcePort, d.destinationIp, d.destinationPort, ssrc);
    if (!c) {
      c = { sourceIp: d.sourceIp, sourcePort: d.sourcePort, destinationIp: d.destinationIp, destinationPort: d.destinationPort, ssrc, packets: 0, consecutive: 0, lastSeq: -1, lastTs: 0, lastNs: 0, payloadSizes: new Map(), tsSteps: new Map(), intervalSumUs: 0, intervals: 0, samples: [], payloadType: p[1] & 0x7f, clockRate: 0 };
      candidates.set(d.sourceIp, d.sourcePort, d.destinationIp, d.destinationPort, ssrc, c);
    }
    const seq = (p[2] << 8) | p[3];
    const ts = ((p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7]) >>> 0;
    const ns = (f.tsSec - firstSec) * 1e9 + (f.tsNsec - firstNsec);
    const headerBytes = 12 + 4 * (p[0] & 0x0f);
    const payloadSize = p.length - headerBytes;
    c.payloadSizes.set(payloadSize, (c.payloadSizes.get(payloadSize) ?? 0) + 1);
    if (c.lastSeq >= 0 && seq === ((c.lastSeq + 1) & 0xffff)) {
      c.consecutive++;
      const step = (ts - c.lastTs) >>> 0;
      c.tsSteps.set(step, (c.tsSteps.get(step) ?? 0) + 1);
      c.intervalSumUs += (ns - c.lastNs) / 1000;
      c.intervals++;
    }
    if (c.samples.length < FORMAT_SAMPLE_PACKETS && payloadSize > 0) c.samples.push(p.slice(headerBytes));
    c.lastSeq = seq;
    c.lastTs = ts;
    c.lastNs = ns;
    c.packets++;
  });

  // Between passes: what is RTP, and at which rate.
  const streams = candidates.values.filter((c) => c.packets >= 2 && c.consecutive * 2 >= c.packets - 1);
  for (const c of streams) {
    c.description = sdpByDestination.get(endpointKey(c.destinationIp, c.destinationPort))?.description;
    c.format = detectFormat(mostCommon(c.payloadSizes) ?? 0, mostCommon(c.tsSteps), c.intervals ? c.intervalSumUs / c.intervals : 0, c.samples);
    c.clockRate = c.description?.sampleRate ?? c.format.sampleRate ?? STATIC_CLOCK_RATES[c.payloadType] ?? 0;
    c.samples = [];
  }
  const byKey = new StreamTable<{ c: Candidate; a: RtpStreamAnalysis }>();
  for (const c of streams) byKey.set(c.sourceIp, c.sourcePort, c.destinationIp, c.destinationPort, c.ssrc, { c, a: new RtpStreamAnalysis(c.sourceIp, c.sourcePort, c.destinationIp, c.destinationPort, c.ssrc) });

  // Pass 2: measurements.
  decoder = new UdpDecoder();
  const ptp = new PtpAnalysis();
  const lastSsrcByDestination = new Map<number, number>();
  const ssrcChanges = new Map<number, number>();
  let frames = 0;
  let lastSec = firstSec;
  let lastNsec = firstNsec;
  const sdpKnownAt = new Map([...sdpByDestination].map(([k, v]) => [k, v.frame]));
  walk(file, (f) => {
    frames++;
    if (f.hasTimestamp) [lastSec, lastNsec] = [f.tsSec, f.tsNsec];
    const d = decoder.decode(f);
    let ds = f.tsSec - firstSec;
    let dn = f.tsNsec - firstNsec;
    if (dn < 0) {
      ds--;
      dn += 1e9;
    }
    const relMs = ds * 1000 + dn / 1e6; // as Wireshark's nstime_to_msec(rel_ts)
    if (!d) {
      // PTP over Ethernet (IEEE 1588 Annex F), e.g. the peer-delay and L2 profiles.
      if (decoder.link.etherType === ETHERTYPE_PTP) ptp.add(f.data.subarray(decoder.link.payloadOffset), relMs);
      return;
    }
    if (PTP_PORTS.has(d.destinationPort)) return ptp.add(d.payload, relMs);
    if (!isRtpCandidate(d)) return;
    const p = d.payload;
    const ssrc = ((p[8] << 24) | (p[9] << 16) | (p[10] << 8) | p[11]) >>> 0;
    const s = byKey.get(d.sourceIp, d.sourcePort, d.destinationIp, d.destinationPort, ssrc);
    if (!s) return;
    const dest = endpointKey(d.destinationIp, d.destinationPort);
    const last = lastSsrcByDestination.get(dest);
    if (last !== undefined && last !== ssrc) ssrcChanges.set(dest, (ssrcChanges.get(dest) ?? 0) + 1);
    lastSsrcByDestination.set(dest, ssrc);
    const pt = p[1] & 0x7f;
    const sdpFrame = sdpKnownAt.get(dest);
    const sdpRate = sdpFrame !== undefined && sdpFrame < f.number && s.c.description?.payloadType === pt ? s.c.description.sampleRate : 0;
    const wiresharkRate = pt < 96 ? (STATIC_CLOCK_RATES[pt] ?? 0) : sdpRate;
    const headerBytes = 12 + 4 * (p[0] & 0x0f);
    s.a.add(ds * 1e9 + dn, relMs, f.tsSec, f.tsNsec, (p[2] << 8) | p[3], ((p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7]) >>> 0, (p[1] & 0x80) !== 0, pt, p.length - headerBytes, d.dscp, macMatches(d) !== false, s.c.clockRate, s.c.description?.mediaclkOffset ?? 0, tsdfWindowNs, f.number, wiresharkRate);
    s.a.multicastSeen ||= isMulticast(d.destinationIp) && d.destinationMac !== undefined;
  });
  decoder.finish();

  const groupCounts = new Map<number, number>();
  for (const c of streams) groupCounts.set(c.destinationIp, (groupCounts.get(c.destinationIp) ?? 0) + 1);
  const reports = [...byKey.values]
    .sort((x, y) => x.a.firstFrame - y.a.firstFrame)
    .map(({ c, a }, i) => streamReport(i + 1, c, a, groupCounts.get(c.destinationIp) ?? 1, ssrcChanges.get(endpointKey(c.destinationIp, c.destinationPort)) ?? 0, profile, tsdfWindowNs / 1e6));

  const durationS = firstSec < 0 ? 0 : lastSec - firstSec + (lastNsec - firstNsec) / 1e9;
  return {
    schemaVersion: ANALYSIS_SCHEMA_VERSION,
    file,
    format: first.format,
    profile,
    frames,
    durationS,
    udp: decoder.counters,
    captureError: first.error ? { offset: first.error.offset, message: first.error.message } : null,
    streams: reports,
    ptp: ptp.summary(durationS * 1000),
    sap: [...sap.values()],
  };
}

function collectSap(d: UdpDatagram, f: CapturedFrame, sap: Map<string, SapSessionReport>, sdpByDestination: Map<number, { frame: number; description: Aes67StreamDescription }>): void {
  let packet;
  try {
    packet = parseSap(d.payload);
  } catch {
    return; // malformed SAP: not a session
  }
  const key = `${packet.origin}#${packet.msgIdHash}`;
  let s = sap.get(key);
  if (!s) {
    const name = /^s=(.*)$/m.exec(packet.sdp)?.[1]?.replace(/\r$/, '') ?? '';
    s = { origin: packet.origin, msgIdHash: packet.msgIdHash, sessionName: name, announcements: 0, deletions: 0, firstFrame: f.number, sdp: packet.sdp, lint: packet.sdp ? lintSdp(packet.sdp) : [] };
    sap.set(key, s);
    try {
      const description = describeAes67(packet.sdp);
      const dest = endpointKey(parseIpv4Number(description.destination), description.port);
      if (!sdpByDestination.has(dest)) sdpByDestination.set(dest, { frame: f.number, description });
    } catch {
      // lint already reports why the SDP does not describe an AES67 stream
    }
  }
  if (packet.messageType === 'delete') s.deletions++;
  else s.announcements++;
}

function streamReport(index: number, c: Candidate, a: RtpStreamAnalysis, streamsInGroup: number, ssrcChanges: number, profile: ProfileName, windowMs: number): StreamReport {
  a.finish();
  const f = c.format!;
  const d = c.description;
  const mismatches: string[] = [];
  if (d) {
    if (f.framesPerPacket !== null && f.framesPerPacket !== d.framesPerPacket) mismatches.push(`packets carry ${f.framesPerPacket} samples, SDP ptime means ${d.framesPerPacket}`);
    const payloadSize = mostCommon(c.payloadSizes);
    const expected = d.framesPerPacket * d.channels * { L16: 2, L24: 3, L32: 4 }[d.encoding];
    if (payloadSize !== undefined && payloadSize !== expected) mismatches.push(`payload ${payloadSize} bytes, SDP means ${expected}`);
    if (f.sampleRate !== null && f.sampleRate !== d.sampleRate) mismatches.push(`packet timing means ${f.sampleRate} Hz, SDP says ${d.sampleRate}`);
    if (a.payloadTypes.size && mostCommon(a.payloadTypes) !== d.payloadType) mismatches.push(`payload type ${mostCommon(a.payloadTypes)}, SDP says ${d.payloadType}`);
  }
  const encoding = d?.encoding ?? f.encoding;
  const sampleRate = d?.sampleRate ?? f.sampleRate;
  const ptimeUs = d?.ptimeUs ?? f.ptimeUs;
  const w = a.wireshark;
  const pitUs = a.pitCount ? { min: a.pitMin, avg: a.pitSum / a.pitCount, max: a.pitMax } : null;
  const deltaUs = a.deltaCount ? { min: a.deltaMin, avg: a.deltaSum / a.deltaCount, max: a.deltaMax } : null;
  const tsdfUs = c.clockRate ? { max: a.tsdfMax, windows: a.tsdfWindows, windowMs } : null;
  const dscpValues = [...a.dscp.keys()].sort((x, y) => x - y);
  const multicastMacMatch = a.multicastSeen ? a.macMismatches === 0 : null;
  const report: StreamReport = {
    index,
    source: `${formatIpv4(c.sourceIp)}:${c.sourcePort}`,
    destination: `${formatIpv4(c.destinationIp)}:${c.destinationPort}`,
    ssrc: c.ssrc,
    ssrcHex: `0x${c.ssrc.toString(16).toUpperCase().padStart(8, '0')}`,
    payloadType: mostCommon(a.payloadTypes) ?? c.payloadType,
    firstFrame: a.firstFrame,
    packets: a.packets,
    lost: w.lost,
    duplicates: a.duplicates,
    reordered: a.reordered,
    sequenceErrors: w.sequenceErrors,
    ssrcChanges,
    payloadSizeChanges: a.payloadSizeChanges,
    payloadSize: mostCommon(c.payloadSizes) ?? null,
    encoding,
    channels: d?.channels ?? f.channels,
    sampleRate,
    ptimeUs,
    framesPerPacket: d?.framesPerPacket ?? f.framesPerPacket,
    formatSource: d ? 'sdp' : f.encoding ? 'detected' : 'unknown',
    formatMismatches: mismatches,
    pitUs,
    pitHistogram: { binUs: PIT_HISTOGRAM_BIN_US, bins: [...a.pitHistogram].sort((x, y) => x[0] - y[0]).map(([fromUs, count]) => ({ fromUs, count })) },
    deltaUs,
    tsdfUs,
    jitterUs: w.clockRate ? w.maxJitter * 1000 : null,
    wireshark: { lost: w.lost, minDeltaMs: w.minDelta, meanDeltaMs: w.meanDelta, maxDeltaMs: w.maxDelta, minJitterMs: w.minJitter, meanJitterMs: w.meanJitter, maxJitterMs: w.maxJitter, clockRate: w.clockRate },
    dscp: mostCommon(a.dscp) ?? null,
    dscpValues,
    multicastMacMatch,
    streamsInGroup,
    checks: [],
  };
  report.checks = streamChecks({ ptimeUs, lost: w.lost, duplicates: a.duplicates, reordered: a.reordered, pitUs, tsdfUs: tsdfUs?.max ?? null, deltaUs, dscpValues, multicastMacMatch, streamsInGroup, encoding, sampleRate, formatMismatches: mismatches, ssrcChanges }, profile);
  return report;
}
