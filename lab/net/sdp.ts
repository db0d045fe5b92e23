// SDP (RFC 8866) through sdp-transform, with the AES67 view of a session: the attributes
// AES67 / RAVENNA / Dante put in it (RFC 7273 ts-refclk and mediaclk, RFC 4570
// source-filter, ptime/maxptime/framecount). Errors name the SDP line and the reason.
import * as sdpTransform from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import type { PcmEncoding } from './pcm.ts';
import { PCM_ENCODINGS } from './pcm.ts';

export type { SessionDescription, MediaDescription };

/**
 * Sessions already parsed, by text: a run parses the same few SDPs again and again (the SAP
 * monitor each new announcement and its description, the lab's receivers what the device
 * sends, a suite's runs the same streams), and V8 optimized sdp-transform's parser anew in
 * every run (~20-35 ms; bench/virtual-speed.ts). Deeply frozen, so shared safely: a caller
 * that changes one gets a TypeError. Bounded: at most PARSED_CACHE texts of at most
 * PARSED_MAX_BYTES (SAP's own limit); a longer text is parsed each time.
 */
const parsed = new Map<string, SessionDescription>();
const PARSED_CACHE = 256;
const PARSED_MAX_BYTES = 8192;

function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

export function parseSdp(text: string): SessionDescription {
  if (text.length > PARSED_MAX_BYTES) return sdpTransform.parse(text);
  let s = parsed.get(text);
  if (!s) {
    if (parsed.size >= PARSED_CACHE) parsed.clear();
    s = deepFreeze(sdpTransform.parse(text));
    parsed.set(text, s);
  }
  return s;
}

export function writeSdp(session: SessionDescription): string {
  return sdpTransform.write(session);
}

export type PtpRefclk = { gmid: string; domain: number } | 'traceable';

export interface Aes67StreamDescription {
  name: string;
  origin: { username: string; sessionId: string; sessionVersion: string; address: string };
  /** Destination IP (multicast group or unicast address), without TTL. */
  destination: string;
  port: number;
  ttl?: number;
  /** The source address of an `incl` source-filter. */
  sourceFilter?: string;
  encoding: PcmEncoding;
  sampleRate: number;
  channels: number;
  ptimeUs: number;
  /** Samples per packet, as the ptime (or framecount) implies at this rate. */
  framesPerPacket: number;
  maxptimeUs?: number;
  payloadType: number;
  ptpRefclk?: PtpRefclk;
  mediaclkOffset?: number;
  channelLabels?: string[];
  direction?: 'sendonly' | 'recvonly' | 'sendrecv';
  /** `a=keywds` (Dante puts "Dante" there). */
  keywords?: string;
  /** RAVENNA's `a=clock-domain:PTPv2 <d>`. */
  clockDomain?: number;
}

export type SdpErrorReason =
  | 'empty'
  | 'no-audio-media'
  | 'bad-origin'
  | 'no-connection'
  | 'bad-connection'
  | 'bad-media-line'
  | 'no-rtpmap'
  | 'bad-rtpmap'
  | 'unsupported-encoding'
  | 'no-ptime'
  | 'bad-ptime'
  | 'bad-maxptime'
  | 'bad-ts-refclk'
  | 'bad-mediaclk';

export class SdpError extends Error {
  constructor(
    readonly reason: SdpErrorReason,
    /** 1-based line in the SDP text; 0 when the problem is the whole text. */
    readonly line: number,
    detail: string,
  ) {
    super(line > 0 ? `SDP line ${line}: ${reason}: ${detail}` : `SDP: ${reason}: ${detail}`);
    this.name = 'SdpError';
  }
}

/** Lines of the text, and where each section (session, then each m=) starts and ends. */
class SdpLines {
  readonly lines: string[];
  readonly mediaStarts: number[] = [];
  constructor(text: string) {
    this.lines = text.split(/\r\n|\r|\n/);
    this.lines.forEach((l, i) => {
      if (l.startsWith('m=')) this.mediaStarts.push(i);
    });
  }
  sessionRange(): [number, number] {
    return [0, this.mediaStarts[0] ?? this.lines.length];
  }
  mediaRange(index: number): [number, number] {
    return [this.mediaStarts[index], this.mediaStarts[index + 1] ?? this.lines.length];
  }
  /** 1-based line number of the first line in range starting with prefix, or 0. */
  find(prefix: string, [from, to]: [number, number]): number {
    for (let i = from; i < to; i++) if (this.lines[i].startsWith(prefix)) return i + 1;
    return 0;
  }
}

const STATIC_PAYLOADS: Record<number, { codec: string; rate: number; channels: number }> = {
  // RFC 3551 table 4
  10: { codec: 'L16', rate: 44100, channels: 2 },
  11: { codec: 'L16', rate: 44100, channels: 1 },
};

/** ptime in ms (fractions as SDPs write them: 0.125, 0.12, 0.333, 0.33) to samples. */
export function ptimeToFrames(ptimeMs: number, sampleRate: number): number {
  return Math.round((ptimeMs * sampleRate) / 1000);
}

export function describeAes67(sdpText: string, mediaIndex?: number): Aes67StreamDescription {
  if (sdpText.trim() === '') throw new SdpError('empty', 0, 'the SDP text is empty');
  const session = parseSdp(sdpText);
  const lines = new SdpLines(sdpText);
  const audioIndex = mediaIndex ?? session.media.findIndex((m) => m.type === 'audio');
  const media = session.media[audioIndex];
  if (!media || media.type !== 'audio') {
    throw new SdpError('no-audio-media', 0, 'no "m=audio" line: an AES67 stream needs one');
  }
  const sessionRange = lines.sessionRange();
  const mediaRange = lines.mediaRange(audioIndex);
  const mLine = mediaRange[0] + 1;

  const o = session.origin;
  if (!o || o.address === undefined) {
    throw new SdpError('bad-origin', lines.find('o=', sessionRange), 'expected "o=<user> <id> <version> IN IP4 <address>"');
  }

  const conn = media.connection ?? session.connection;
  if (!conn) throw new SdpError('no-connection', mLine, 'no "c=" line at session or media level');
  const connLine = lines.find('c=', mediaRange) || lines.find('c=', sessionRange);
  const [destination, ttlText] = String(conn.ip).split('/');
  const octetsOk = /^\d{1,3}(\.\d{1,3}){3}$/.test(destination) && destination.split('.').every((o) => Number(o) <= 255);
  if (!octetsOk && !destination.includes(':')) {
    throw new SdpError('bad-connection', connLine, `"${conn.ip}" is not an IP address`);
  }
  const ttl = ttlText === undefined ? undefined : Number(ttlText);
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 0 && ttl <= 255)) {
    throw new SdpError('bad-connection', connLine, `TTL "${ttlText}" must be 0..255`);
  }

  const port = Number(media.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SdpError('bad-media-line', mLine, `port "${media.port}" must be 0..65535`);
  }
  const payloadType = Number(String(media.payloads ?? '').trim().split(/\s+/)[0]);
  if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) {
    throw new SdpError('bad-media-line', mLine, `payload type "${media.payloads}" must be 0..127`);
  }

  const rtpmapLine = lines.find(`a=rtpmap:${payloadType} `, mediaRange);
  const rtp = media.rtp.find((r) => Number(r.payload) === payloadType) ?? undefined;
  let codec: string;
  let sampleRate: number;
  let channels: number;
  if (rtp) {
    codec = String(rtp.codec).toUpperCase();
    sampleRate = Number(rtp.rate);
    // RFC 3551 §6: no channel count means one channel (the reference driver got this wrong).
    channels = rtp.encoding === undefined ? 1 : Number(rtp.encoding);
    if (!Number.isInteger(sampleRate) || sampleRate <= 0 || !Number.isInteger(channels) || channels <= 0) {
      throw new SdpError('bad-rtpmap', rtpmapLine, `expected "a=rtpmap:${payloadType} L24/48000/2"`);
    }
  } else if (STATIC_PAYLOADS[payloadType]) {
    ({ codec, rate: sampleRate, channels } = STATIC_PAYLOADS[payloadType]);
  } else {
    throw new SdpError('no-rtpmap', mLine, `no "a=rtpmap:${payloadType} ..." for dynamic payload type ${payloadType}`);
  }
  if (!(PCM_ENCODINGS as readonly string[]).includes(codec)) {
    throw new SdpError('unsupported-encoding', rtpmapLine || mLine, `encoding "${codec}" is not L16, L24 or L32`);
  }
  const encoding = codec as PcmEncoding;

  const ptimeLine = lines.find('a=ptime:', mediaRange) || lines.find('a=ptime:', sessionRange);
  const framecountLine = lines.find('a=framecount:', mediaRange);
  let framesPerPacket: number;
  if (ptimeLine) {
    const text = lines.lines[ptimeLine - 1].slice('a=ptime:'.length).trim();
    const ms = Number(text);
    if (!(ms > 0) || !Number.isFinite(ms)) throw new SdpError('bad-ptime', ptimeLine, `"${text}" is not a positive number of ms`);
    framesPerPacket = ptimeToFrames(ms, sampleRate);
    if (framesPerPacket < 1) throw new SdpError('bad-ptime', ptimeLine, `${text} ms is less than one sample at ${sampleRate} Hz`);
  } else if (framecountLine) {
    // Legacy RAVENNA attribute: a sample count where ptime is missing.
    framesPerPacket = Number(lines.lines[framecountLine - 1].slice('a=framecount:'.length).trim());
    if (!Number.isInteger(framesPerPacket) || framesPerPacket < 1) {
      throw new SdpError('bad-ptime', framecountLine, 'framecount must be a positive integer');
    }
  } else {
    // ffmpeg and VLC write no ptime. AES67 §7.2.1 makes 1 ms the packet time every device
    // supports, so assume it; lint still reports the missing attribute.
    framesPerPacket = Math.round(sampleRate / 1000);
  }
  const ptimeUs = Math.round((framesPerPacket * 1e6) / sampleRate);

  let maxptimeUs: number | undefined;
  const maxptimeLine = lines.find('a=maxptime:', mediaRange) || lines.find('a=maxptime:', sessionRange);
  if (maxptimeLine) {
    const text = lines.lines[maxptimeLine - 1].slice('a=maxptime:'.length).trim();
    const ms = Number(text);
    if (!(ms > 0) || !Number.isFinite(ms)) throw new SdpError('bad-maxptime', maxptimeLine, `"${text}" is not a positive number of ms`);
    maxptimeUs = Math.round((ptimeToFrames(ms, sampleRate) * 1e6) / sampleRate);
  }

  const description: Aes67StreamDescription = {
    name: String(session.name ?? ''),
    origin: {
      username: String(o.username),
      sessionId: String(o.sessionId),
      sessionVersion: String(o.sessionVersion),
      address: String(o.address),
    },
    destination,
    port,
    encoding,
    sampleRate,
    channels,
    ptimeUs,
    framesPerPacket,
    payloadType,
  };
  if (ttl !== undefined) description.ttl = ttl;
  if (maxptimeUs !== undefined) description.maxptimeUs = maxptimeUs;

  const filter = media.sourceFilter ?? session.sourceFilter;
  if (filter && filter.filterMode === 'incl') description.sourceFilter = String(filter.srcList).trim().split(/\s+/)[0];

  const refclk = parseRefclk(lines, mediaRange, sessionRange);
  if (refclk) description.ptpRefclk = refclk;

  const mediaclkLine = lines.find('a=mediaclk:', mediaRange) || lines.find('a=mediaclk:', sessionRange);
  if (mediaclkLine) {
    // RFC 7273 §5.2: the offset is an RTP timestamp (32 bits), followed by nothing or " rate=...".
    const m = /^a=mediaclk:direct=(\d+)(?:\s|$)/.exec(lines.lines[mediaclkLine - 1]);
    if (!m || Number(m[1]) > 0xffffffff) throw new SdpError('bad-mediaclk', mediaclkLine, 'expected "a=mediaclk:direct=<offset>"');
    description.mediaclkOffset = Number(m[1]);
  }

  const labels = media.description ?? undefined;
  if (labels) description.channelLabels = parseChannelLabels(String(labels));

  const direction = media.direction ?? session.direction;
  if (direction === 'sendonly' || direction === 'recvonly' || direction === 'sendrecv') description.direction = direction;
  const keywdsLine = lines.find('a=keywds:', sessionRange) || lines.find('a=keywds:', mediaRange);
  if (keywdsLine) description.keywords = lines.lines[keywdsLine - 1].slice('a=keywds:'.length).trim();
  const domainLine = lines.find('a=clock-domain:', mediaRange) || lines.find('a=clock-domain:', sessionRange);
  if (domainLine) {
    const m = /^a=clock-domain:PTPv2 (\d+)/.exec(lines.lines[domainLine - 1]);
    if (m) description.clockDomain = Number(m[1]);
  }
  return description;
}

function parseRefclk(lines: SdpLines, ...ranges: [number, number][]): PtpRefclk | undefined {
  for (const range of ranges) {
    for (let i = range[0]; i < range[1]; i++) {
      const line = lines.lines[i];
      if (!line.startsWith('a=ts-refclk:')) continue;
      const value = line.slice('a=ts-refclk:'.length).trim();
      if (!value.startsWith('ptp=')) continue; // localmac=, ntp=: not a PTP reference
      const m = /^ptp=IEEE1588-20(?:02|08|19):(?:(traceable)|([0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7})(?::(\d+))?)$/.exec(value);
      if (!m) {
        throw new SdpError('bad-ts-refclk', i + 1, 'expected "a=ts-refclk:ptp=IEEE1588-2008:XX-XX-XX-XX-XX-XX-XX-XX:<domain>" or ":traceable"');
      }
      // RFC 7273 §4.8: ptp-domain is 0-127.
      if (m[3] !== undefined && Number(m[3]) > 127) {
        throw new SdpError('bad-ts-refclk', i + 1, `PTP domain ${m[3]} is not 0-127 (RFC 7273 §4.8)`);
      }
      if (m[1]) return 'traceable';
      return { gmid: m[2].toUpperCase(), domain: m[3] === undefined ? 0 : Number(m[3]) };
    }
  }
  return undefined;
}

/** Dante writes channel labels in `i=` ("2 channels: Left, Right"); others a plain list. */
function parseChannelLabels(text: string): string[] {
  const body = text.replace(/^\s*\d+\s+channels?\s*:\s*/i, '');
  return body.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Formats a ptime in µs as SDP ms: 1000 -> "1", 125 -> "0.125", 333 -> "0.333". */
export function formatPtimeMs(ptimeUs: number): string {
  return String(Number((ptimeUs / 1000).toFixed(3)));
}

export function buildAes67Sdp(d: Omit<Aes67StreamDescription, 'framesPerPacket'> & { framesPerPacket?: number }): string {
  const sessionLines = [
    'v=0',
    `o=${d.origin.username} ${d.origin.sessionId} ${d.origin.sessionVersion} IN IP4 ${d.origin.address}`,
    `s=${d.name}`,
    `c=IN IP4 ${d.destination}${d.ttl !== undefined ? `/${d.ttl}` : ''}`,
    't=0 0',
  ];
  if (d.keywords) sessionLines.push(`a=keywds:${d.keywords}`);
  const mediaLines = [`m=audio ${d.port} RTP/AVP ${d.payloadType}`];
  if (d.channelLabels && d.channelLabels.length > 0) mediaLines.push(`i=${d.channels} channels: ${d.channelLabels.join(', ')}`);
  mediaLines.push(`a=rtpmap:${d.payloadType} ${d.encoding}/${d.sampleRate}/${d.channels}`);
  if (d.sourceFilter) mediaLines.push(`a=source-filter: incl IN IP4 ${d.destination} ${d.sourceFilter}`);
  if (d.clockDomain !== undefined) mediaLines.push(`a=clock-domain:PTPv2 ${d.clockDomain}`);
  mediaLines.push(`a=ptime:${formatPtimeMs(d.ptimeUs)}`);
  if (d.maxptimeUs !== undefined) mediaLines.push(`a=maxptime:${formatPtimeMs(d.maxptimeUs)}`);
  if (d.ptpRefclk === 'traceable') mediaLines.push('a=ts-refclk:ptp=IEEE1588-2008:traceable');
  else if (d.ptpRefclk) mediaLines.push(`a=ts-refclk:ptp=IEEE1588-2008:${d.ptpRefclk.gmid}:${d.ptpRefclk.domain}`);
  if (d.mediaclkOffset !== undefined) mediaLines.push(`a=mediaclk:direct=${d.mediaclkOffset}`);
  if (d.direction) mediaLines.push(`a=${d.direction}`);
  return [...sessionLines, ...mediaLines, ''].join('\r\n');
}
