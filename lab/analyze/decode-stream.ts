// A stream's audio out of a capture: samples placed by RTP timestamp (lost packets leave
// silence, duplicates are ignored, reordered packets land where they belong).
import { CaptureReader } from '../net/pcap/reader.ts';
import { UdpDecoder, parseIpv4Number } from '../net/pcap/udp.ts';
import { parseRtp, RtpParseError } from '../net/rtp.ts';
import { bytesPerSample, decodePcm, type PcmEncoding } from '../net/pcm.ts';
import type { StreamReport } from './analyze-capture.ts';

export interface DecodedAudio {
  sampleRate: number;
  channels: number;
  encoding: PcmEncoding;
  /** Interleaved samples from the stream's first timestamp to its last. */
  interleaved: Float32Array;
  /** Frames that no packet covered (lost). */
  missingFrames: number;
}

/** Longest audio this decoder produces (frames): one hour at 384 kHz. */
const MAX_FRAMES = 384000 * 3600;

export function decodeStream(file: string, stream: StreamReport): DecodedAudio {
  if (!stream.encoding || !stream.channels || !stream.sampleRate) {
    throw new Error(`stream ${stream.index} (${stream.destination}): format unknown (no SDP and not detectable), cannot decode`);
  }
  const encoding = stream.encoding as PcmEncoding;
  const channels = stream.channels;
  const width = bytesPerSample(encoding) * channels;
  const [ip, port] = stream.destination.split(':');
  const destinationIp = parseIpv4Number(ip);
  const destinationPort = Number(port);
  let out = new Float32Array(channels * stream.sampleRate); // grows by doubling
  const covered: [number, number][] = [];
  let firstTs = -1;
  let lastExt = 0;
  let extHigh = 0;
  let prevTs = 0;
  let endFrame = 0;
  const decoder = new UdpDecoder();
  for (const f of new CaptureReader(file)) {
    const d = decoder.decode(f);
    if (!d || d.destinationIp !== destinationIp || d.destinationPort !== destinationPort) continue;
    let p;
    try {
      p = parseRtp(d.payload);
    } catch (e) {
      if (e instanceof RtpParseError) continue;
      throw e;
    }
    if (p.ssrc !== stream.ssrc) continue;
    if (firstTs < 0) {
      firstTs = p.timestamp;
      prevTs = p.timestamp;
    }
    // Unwrap the 32-bit timestamp relative to the previous packet.
    const step = ((p.timestamp - prevTs) | 0);
    extHigh += step;
    prevTs = p.timestamp;
    const start = extHigh;
    lastExt = Math.max(lastExt, start);
    if (start < 0) continue; // before the first packet: not placed
    const frames = Math.floor(p.payload.length / width);
    const end = start + frames;
    if (end > MAX_FRAMES) throw new Error(`stream ${stream.index}: more than ${MAX_FRAMES} frames of audio`);
    while (end * channels > out.length) {
      const bigger = new Float32Array(out.length * 2);
      bigger.set(out);
      out = bigger;
    }
    out.set(decodePcm(p.payload.subarray(0, frames * width), encoding), start * channels);
    covered.push([start, end]);
    endFrame = Math.max(endFrame, end);
  }
  covered.sort((a, b) => a[0] - b[0]);
  let missing = 0;
  let reach = 0;
  for (const [s, e] of covered) {
    if (s > reach) missing += s - reach;
    reach = Math.max(reach, e);
  }
  return { sampleRate: stream.sampleRate, channels, encoding, interleaved: out.subarray(0, endFrame * channels), missingFrames: missing };
}
