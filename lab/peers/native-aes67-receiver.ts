// The lab's AES67 receiver in C++ for virtual-time runs (native/src/virtual_actors_binding.cc):
// for a fixed SDP, what lab/peers/aes67-receiver.ts Aes67Receiver with its RtpSubscription
// does with each datagram (drops with the same reasons, the same RTP metrics, the payload
// placed by media time) without a JavaScript call per packet; the metrics and the recorded
// audio are read once, when asked, and decoded by the same code (rtp-subscription.ts
// recordedAudio). Its times come from a linear PTP timescale (checked). Live SDP sources
// (SAP, RTSP) and real sockets stay with Aes67Receiver, the live peer.
import type { VirtualNetwork } from '../../native/index.ts';
import { loadNative } from '../../native/index.ts';
import type { NativeActorHandle, NativeAes67Receiver as NativeReceiver, NativeLinearTimescale } from '../../native/virtual-actors.ts';
import type { LabTransport, TimedActor } from '../net/lab-transport.ts';
import type { PtpTimescale } from '../net/ptp-timescale.ts';
import { describeAes67, type Aes67StreamDescription } from '../net/sdp.ts';
import { checkLinear } from './native-aes67-sender.ts';
import { recordedAudio, type ChannelComparison, type ReceivedAudio, type RecordingView, type RtpMetrics } from './rtp-subscription.ts';

export interface NativeAes67ReceiverOptions {
  network: VirtualNetwork;
  /** The virtual host it listens on. */
  transport: LabTransport;
  timescale: PtpTimescale;
  /** `timescale` as linearTimescale's parameters (checked against it). */
  linear: NativeLinearTimescale;
  /** The stream's SDP (fixed). */
  source: string;
  playoutDelayNs?: number;
  recordSeconds?: number;
}

/** Recording blocks a view keeps copied out (the measurement reads across at most two at a time). */
const KEPT_BLOCKS = 4;

export class NativeAes67Receiver implements TimedActor {
  readonly pollOn = 'due-or-delivery';
  readonly native: NativeActorHandle;
  readonly state = 'receiving';
  readonly sdp: string;
  readonly stream: Aes67StreamDescription;
  private readonly receiver: NativeReceiver;

  /** Throws SdpError for an SDP that describes no AES67 stream (Aes67Receiver records that as its state instead). */
  constructor(readonly o: NativeAes67ReceiverOptions) {
    checkLinear(o.timescale, o.linear, 'native-aes67-receiver');
    this.sdp = o.source;
    const d = describeAes67(o.source);
    this.stream = d;
    this.receiver = new (loadNative().NativeAes67Receiver)(o.network, {
      epochNs: o.linear.epochNs,
      ppm: o.linear.ppm,
      host: o.transport.address,
      destination: d.destination,
      port: d.port,
      ...(d.sourceFilter ? { sourceFilter: d.sourceFilter } : {}),
      sampleRate: d.sampleRate,
      channels: d.channels,
      encoding: d.encoding,
      payloadType: d.payloadType,
      mediaclkOffset: d.mediaclkOffset ?? 0,
      ...(o.playoutDelayNs !== undefined ? { playoutDelayNs: o.playoutDelayNs } : {}),
      ...(o.recordSeconds !== undefined ? { recordSeconds: o.recordSeconds } : {}),
    });
    this.native = this.receiver.nativeActor();
  }

  /**
   * What audio() decodes, undecoded (as RtpSubscription.recording gives it). Blocks are
   * copied out of the native recording when first read, and only the last few read are
   * kept; `inPlace` reads the recording without copying (what the measurement uses).
   */
  recording(): RecordingView {
    const r = this.receiver.recordingSpan();
    const kept = new Map<number, { bytes: Uint8Array; filled: Uint8Array } | null>();
    const blockAt = (b: number) => {
      let block = kept.get(b);
      if (block === undefined) {
        block = b >= 0 && b < r.blocks ? this.receiver.recordingBlock(b) : null;
        if (kept.size >= KEPT_BLOCKS) kept.delete(kept.keys().next().value!);
        kept.set(b, block);
      }
      return block;
    };
    const n = this.receiver;
    const inPlace = { countDiffering: (cs: ChannelComparison[]) => n.countDifferingInRecording(cs), readChannel: (k: number, from: number, len: number, out: Float32Array, at: number) => n.readRecordedChannel(k, from, len, out, at) };
    return { stream: this.stream, firstSample: r.firstSample, lastFrameEnd: r.lastFrameEnd, blockAt, inPlace };
  }

  /** Flips bits `mask` of byte `byte` of recorded frame `frame` (tests: returned audio that differs from what was sent); false where nothing was recorded. */
  alterRecording(frame: number, byte: number, mask: number): boolean {
    return this.receiver.alterRecording(frame, byte, mask);
  }

  metrics(): RtpMetrics {
    return this.receiver.metrics();
  }

  audio(): ReceivedAudio {
    const r = this.receiver.recording();
    return recordedAudio(this.stream, r.firstSample, r.lastFrameEnd, (b) => r.blocks[b]);
  }

  /** How the recording is kept: distinct chunk contents, chunks copied privately, and the shared store's lookups that hashed a chunk (native/src/chunked_recording.hpp). */
  recordingStore(): { storedChunks: number; privateChunks: number; hashedLookups: number } {
    const r = this.receiver.recordingSpan();
    return { storedChunks: r.storedChunks, privateChunks: r.privateChunks, hashedLookups: r.hashedLookups };
  }

  poll(now: number): number {
    return this.receiver.poll(now);
  }

  close(): void {
    this.receiver.close();
  }
}
