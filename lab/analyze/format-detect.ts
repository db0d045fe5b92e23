// Stream format from packets alone: samples per packet from the RTP time-stamp step, the
// rate from that step over the packet interval, encoding and channels from the payload size,
// and, when sizes allow several (6 bytes: 2 × L24 or 3 × L16), the reading whose decoded
// signal is smoothest — a wrong word size turns audio into noise.
import { bytesPerSample, decodePcm, type PcmEncoding } from '../net/pcm.ts';

const STANDARD_RATES = [8000, 16000, 32000, 44100, 48000, 88200, 96000, 176400, 192000, 352800, 384000];

export interface DetectedFormat {
  encoding: PcmEncoding | null;
  channels: number | null;
  sampleRate: number | null;
  framesPerPacket: number | null;
  ptimeUs: number | null;
}

/**
 * The standard rate nearest (in ratio) to frames per mean packet interval, if within 8 %.
 * Senders pace loosely over short captures: ffmpeg -re bursts at start-up and a 1 s run
 * averages 5 % fast; 44.1 and 48 kHz are 8.8 % apart, so the nearest is unambiguous.
 */
export function detectRate(framesPerPacket: number, meanIntervalUs: number): number | null {
  if (!(framesPerPacket > 0 && meanIntervalUs > 0)) return null;
  const estimate = (framesPerPacket * 1e6) / meanIntervalUs;
  let best: number | null = null;
  const distance = (r: number) => Math.abs(Math.log(estimate / r));
  for (const r of STANDARD_RATES) if (distance(r) < Math.log(1.08) && (best === null || distance(r) < distance(best))) best = r;
  return best;
}

/** Mean |x[n] − x[n−1]| per channel over mean |x|: small for audio, ~1 or more for noise. */
function roughness(payloads: Uint8Array[], encoding: PcmEncoding, channels: number): number {
  let diff = 0;
  let level = 0;
  for (const p of payloads) {
    const x = decodePcm(p, encoding);
    for (let i = channels; i < x.length; i++) {
      diff += Math.abs(x[i] - x[i - channels]);
      level += Math.abs(x[i]);
    }
  }
  return level === 0 ? 0 : diff / level;
}

export function detectFormat(payloadSize: number, framesPerPacket: number | undefined, meanIntervalUs: number, samples: Uint8Array[]): DetectedFormat {
  const none: DetectedFormat = { encoding: null, channels: null, sampleRate: null, framesPerPacket: null, ptimeUs: null };
  if (!framesPerPacket || framesPerPacket <= 0 || payloadSize % framesPerPacket !== 0) return none;
  const sampleRate = detectRate(framesPerPacket, meanIntervalUs);
  const bytesPerFrame = payloadSize / framesPerPacket;
  const candidates: { encoding: PcmEncoding; channels: number }[] = [];
  // L32 only when nothing else fits: its high half is a smooth L16 channel, so smoothness
  // cannot tell L32 × n from L16 × 2n, and AES67 streams are L16 or L24.
  for (const encoding of ['L24', 'L16', 'L32'] as const) {
    const w = bytesPerSample(encoding);
    if (encoding === 'L32' && candidates.length > 0) break;
    if (bytesPerFrame % w === 0 && bytesPerFrame / w <= 128) candidates.push({ encoding, channels: bytesPerFrame / w });
  }
  if (candidates.length === 0) return { ...none, sampleRate, framesPerPacket };
  let best = candidates[0];
  if (candidates.length > 1 && samples.length > 0) {
    let bestScore = Infinity;
    for (const c of candidates) {
      const score = roughness(samples, c.encoding, c.channels);
      if (score < bestScore - 1e-9) [best, bestScore] = [c, score];
    }
  }
  return { ...best, sampleRate, framesPerPacket, ptimeUs: sampleRate ? Math.round((framesPerPacket * 1e6) / sampleRate) : null };
}
