// Types of the engine/rtp and engine/jitter bindings (native/src/rtp_binding.cc).
import type { VirtualNetwork } from './index.ts';

export type NativePcmEncoding = 'L16' | 'L24' | 'L32';

export type NativeRtpParse =
  | { error: 'truncated' | 'bad-version' | 'bad-padding' }
  | {
      error?: undefined;
      padding: boolean;
      marker: boolean;
      payloadType: number;
      sequenceNumber: number;
      timestamp: number;
      ssrc: number;
      csrcs: number[];
      extension?: { profile: number; data: Buffer };
      payload: Buffer;
    };

export interface RtpFormat {
  encoding: NativePcmEncoding;
  channels: number;
  sampleRate: number;
  payloadType?: number;
  mediaclkOffset?: number;
}

export interface PlayoutStats {
  framesWritten: number;
  framesPlayed: number;
  framesMissing: number;
  framesPriming: number;
  glitches: number;
  latePackets: number;
  earlyPackets: number;
  duplicatePackets: number;
}

export interface PlayoutBuffer {
  write(mediaTime: number, interleaved: Float32Array): 'stored' | 'late' | 'too-early' | 'duplicate';
  read(mediaTime: number, frames: number): Float32Array;
  stats(): PlayoutStats;
  /** Drains the log of finished glitches (runs of missing frames). */
  glitches(): Array<{ start: number; frames: number }>;
  fillFrames(): number;
}

export interface RtpReceiverStats {
  received: number;
  accepted: number;
  lost: number;
  reordered: number;
  ssrcChanges: number;
  sequenceResyncs: number;
  ssrc: number;
  dropped: Record<string, number>;
}

export interface RtpReceiver {
  poll(): number;
  stats(): RtpReceiverStats;
}

export interface RtpAddon {
  parseRtp(data: Uint8Array): NativeRtpParse;
  decodePcm(encoding: NativePcmEncoding, bytes: Uint8Array): Float32Array;
  encodePcm(encoding: NativePcmEncoding, samples: Float32Array): Buffer;
  PlayoutBuffer: new (config: { channels: number; capacityFrames?: number; linkOffset?: number }) => PlayoutBuffer;
  RtpReceiver: new (
    network: VirtualNetwork,
    hostAddress: string,
    config: { destination: string; sourceFilter?: string; format: RtpFormat },
    playout: PlayoutBuffer,
  ) => RtpReceiver;
}
