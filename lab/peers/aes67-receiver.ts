// The lab's AES67 receiver: subscribes to a stream described by an SDP that comes from
// text, a SAP session (SapListener.sdpSource) or an RTSP URL (RtspClient), follows the
// description when it changes (a new SAP version, an RTSP ANNOUNCE), decodes, records
// WAV, and hands RTP metrics and the decoded audio to measurement.
import type { LabTransport, TimedActor } from '../net/lab-transport.ts';
import type { PtpTimescale } from '../net/ptp-timescale.ts';
import { describeAes67, SdpError, type Aes67StreamDescription } from '../net/sdp.ts';
import { writeWav } from '../analyze/wav.ts';
import { RtpSubscription, streamKey, type ReceivedAudio, type RecordingView, type RtpMetrics } from './rtp-subscription.ts';
import type { SdpSource } from './sap-listener.ts';

export type { SdpSource } from './sap-listener.ts';

export interface Aes67ReceiverOptions {
  transport: LabTransport;
  timescale: PtpTimescale;
  /** Where the SDP comes from: its text, or a live source (SAP session, RTSP client). */
  source: SdpSource | string;
  /** Playout delay after a packet's first sample; later packets are dropped as late (default: none, keep all). */
  playoutDelayNs?: number;
  recordSeconds?: number;
}

export type ReceiverState = 'waiting' | 'receiving' | 'error';

export class Aes67Receiver implements TimedActor {
  /** Every subscription so far; the last is the current one. */
  readonly subscriptions: RtpSubscription[] = [];
  sdpUpdates = 0;
  state: ReceiverState = 'waiting';
  error?: string;
  private readonly source: SdpSource;
  private sdpText?: string;
  private description?: Aes67StreamDescription;
  /** With a fixed SDP everything it waits for is datagrams; a live source (SAP, RTSP) may change at any step. */
  readonly pollOn?: 'due-or-delivery';

  constructor(readonly o: Aes67ReceiverOptions) {
    const text = o.source;
    this.source = typeof text === 'string' ? { current: () => text } : text;
    if (typeof text === 'string') this.pollOn = 'due-or-delivery';
    this.refresh();
  }

  get sdp(): string | undefined {
    return this.sdpText;
  }

  get stream(): Aes67StreamDescription | undefined {
    return this.description;
  }

  get current(): RtpSubscription | undefined {
    return this.subscriptions[this.subscriptions.length - 1];
  }

  metrics(): RtpMetrics | undefined {
    return this.current?.metrics;
  }

  audio(): ReceivedAudio | undefined {
    return this.current?.audio();
  }

  /** What audio() decodes, undecoded (RtpSubscription.recording). */
  recording(): RecordingView | undefined {
    return this.current?.recording();
  }

  writeWav(path: string): void {
    const a = this.audio();
    if (!a || a.interleaved.length === 0) throw new Error(`receiver has no audio to write to ${path} (state ${this.state}${this.error ? `: ${this.error}` : ''})`);
    writeWav(path, a);
  }

  poll(): number {
    this.refresh();
    this.current?.drain();
    return Infinity;
  }

  close(): void {
    for (const s of this.subscriptions) s.close();
  }

  private refresh(): void {
    const text = this.source.current();
    if (text === undefined || text === this.sdpText) return;
    const first = this.sdpText === undefined;
    this.sdpText = text;
    if (!first) this.sdpUpdates++;
    let d: Aes67StreamDescription;
    try {
      d = describeAes67(text);
    } catch (e) {
      if (!(e instanceof SdpError)) throw e;
      this.state = 'error';
      this.error = e.message;
      return;
    }
    const changed = !this.description || streamKey(d) !== streamKey(this.description);
    this.description = d;
    this.state = 'receiving';
    this.error = undefined;
    if (changed) {
      this.current?.drain();
      this.current?.close();
      this.subscriptions.push(new RtpSubscription({ transport: this.o.transport, timescale: this.o.timescale, stream: d, playoutDelayNs: this.o.playoutDelayNs, recordSeconds: this.o.recordSeconds }));
    }
  }
}
