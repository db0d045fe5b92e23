// Types of the engine/rtp and engine/jitter bindings (native/src/rtp_binding.cc).
import type { VirtualNetwork } from './index.ts';

export type NativePcmEncoding = 'L16' | 'L24' | 'L32';
export type NativePcmKernelSet = 'scalar' | 'avx2' | 'avx512';

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
  /** The newest frame's media time, or null before the first write. */
  newestWritten(): number | null;
}

export interface RtpReceiverStats {
  received: number;
  accepted: number;
  lost: number;
  reordered: number;
  /** Takeovers by a new SSRC after the locked one fell silent (the first lock is not one). */
  ssrcChanges: number;
  sequenceResyncs: number;
  /** Re-anchors to a timestamp base other than the SDP's mediaclk offset. */
  timestampResyncs: number;
  /** Datagrams kept aside for probation (0 or 1): received = accepted + dropped + held. */
  held: number;
  /** The longest pause between two datagrams of the locked SSRC (ns). */
  longestGapNs: number;
  locked: boolean;
  /** The locked SSRC. */
  ssrc: number;
  /** By reason, including 'other-ssrc' (another sender while the locked one is alive) and 'probation'. */
  dropped: Record<string, number>;
}

export interface RtpReceiver {
  poll(): number;
  stats(): RtpReceiverStats;
}

export interface RtpAddon {
  parseRtp(data: Uint8Array): NativeRtpParse;
  /** kernels: 'dispatched' (default) what the engine runs, else that kernel set (throws when this CPU has none such). */
  decodePcm(encoding: NativePcmEncoding, bytes: Uint8Array, kernels?: NativePcmKernelSet | 'dispatched'): Float32Array;
  encodePcm(encoding: NativePcmEncoding, samples: Float32Array, kernels?: NativePcmKernelSet | 'dispatched'): Buffer;
  /** The PCM kernel sets this build and CPU run, slowest first ('scalar' always). */
  pcmKernelSets(): NativePcmKernelSet[];
  PlayoutBuffer: new (config: { channels: number; capacityFrames?: number; linkOffset?: number }) => PlayoutBuffer;
  /**
   * On the virtual network (network, host address), or on real UDP sockets pinned to an
   * interface ({ interfaceName }, null). ssrcHoldoffNs: how long the locked SSRC must be
   * silent before another takes over (engine default 50 ms, never under two packet times).
   */
  RtpReceiver: new (
    network: VirtualNetwork | { interfaceName: string },
    hostAddress: string | null,
    config: { destination: string; sourceFilter?: string; format: RtpFormat; ssrcHoldoffNs?: number },
    playout: PlayoutBuffer,
  ) => RtpReceiver;
}
