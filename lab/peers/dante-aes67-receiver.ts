// A Dante device receiving an AES67 flow, as Dante Controller shows it (issue 11;
// FIELD-NOTES "Dante in AES67 mode"):
// - it receives only 48 kHz, L16 or L24, at most 8 channels, with packet times of 125,
//   250, 333 µs or 1 ms [Audinate Dante Controller guide; Glensound Beatrice manual];
//   anything else cannot be routed (prohibited);
// - the flow's multicast group must lie in the device's configured AES67 prefix
//   (239.69.0.0/16 by default), otherwise the subscription "succeeds" but no audio flows
//   [same sources] — reported as "subscribed, no audio: multicast prefix";
// - it plays with a fixed 2 ms window: a packet arriving after its first sample's PTP time
//   + 2 ms is dropped and counted, and the worst packet's margin is kept; late packets are
//   the most common field complaint [philhartung/aes67-sender README;
//   bondagit/aes67-linux-daemon#227, #17, #31, #189];
// - a session-level a=source-filter hid a source from Dante Controller's routing view
//   (bondagit/aes67-linux-daemon#94): the subscription stays unresolved;
// - o= session id/version mishandling gave prohibited routes (bondagit/aes67-linux-daemon
//   #10, fixed in its commit cee8823); the exact rule Dante applies is unverified: this
//   model refuses a zero or non-numeric session id or version (the daemon's SDPs before the
//   fix read "o=- 0 0").
// States use Dante Controller's words: unresolved, prohibited, subscribed, no audio.
import type { LabTransport, TimedActor } from '../net/lab-transport.ts';
import type { PtpTimescale } from '../net/ptp-timescale.ts';
import { describeAes67, SdpError, type Aes67StreamDescription } from '../net/sdp.ts';
import { isMulticast } from './aes67-sender.ts';
import { DANTE_AES67_MAX_CHANNELS, DANTE_DEFAULT_PREFIX, inMulticastPrefix, parseMulticastPrefix } from './dante-aes67-sender.ts';
import { RtpSubscription, streamKey, type ReceivedAudio, type RecordingView, type RtpMetrics } from './rtp-subscription.ts';
import type { SdpSource } from './sap-listener.ts';

export const DANTE_AES67_WINDOW_NS = 2_000_000;
/** Packet times a Dante receiver accepts, in µs as the SDP reader rounds them. */
export const DANTE_AES67_RX_PTIMES_US = [125, 250, 333, 1000];

export type DanteSubscriptionState = 'unresolved' | 'prohibited' | 'subscribed' | 'no-audio';

export interface DanteSubscriptionStatus {
  state: DanteSubscriptionState;
  /** Why, in words a Dante Controller user would recognise plus the lab's detail. */
  reason: string;
  packets: number;
  late: number;
  /** Smallest (2 ms deadline − arrival) of any packet (ns); negative: that packet was late. */
  worstMarginNs?: number;
  /** What a Dante device might not like, where its effect is unverified (not a verdict). */
  warnings: string[];
}

export interface DanteAes67ReceiverOptions {
  transport: LabTransport;
  timescale: PtpTimescale;
  /** The flow's SDP: a SAP session (how Dante finds AES67 flows) or text. */
  source: SdpSource | string;
  multicastPrefix?: string;
  /** Playout window after a packet's first sample (default 2 ms, Dante's fixed value). */
  windowNs?: number;
  /** Without packets for this long a subscribed flow shows "no audio" (default 1 s). */
  noAudioAfterNs?: number;
  recordSeconds?: number;
}

export class DanteAes67Receiver implements TimedActor {
  private readonly source: SdpSource;
  private sdpText?: string;
  private description?: Aes67StreamDescription;
  private subscription?: RtpSubscription;
  private refusal?: { state: DanteSubscriptionState; reason: string };
  private subscribedAt = 0;
  private readonly prefix: string;
  private now = 0;

  constructor(readonly o: DanteAes67ReceiverOptions) {
    const text = o.source;
    this.source = typeof text === 'string' ? { current: () => text } : text;
    this.prefix = o.multicastPrefix ?? DANTE_DEFAULT_PREFIX;
    parseMulticastPrefix(this.prefix);
    this.now = o.transport.now();
    this.refresh();
  }

  get stream(): Aes67StreamDescription | undefined {
    return this.description;
  }

  metrics(): RtpMetrics | undefined {
    return this.subscription?.metrics;
  }

  /** What the device played: late packets left silence. */
  audio(): ReceivedAudio | undefined {
    return this.subscription?.audio();
  }

  /** What audio() decodes, undecoded (RtpSubscription.recording). */
  recording(): RecordingView | undefined {
    return this.subscription?.recording();
  }

  poll(now: number): number {
    this.now = now;
    this.refresh();
    this.subscription?.drain();
    return Infinity;
  }

  close(): void {
    this.subscription?.close();
  }

  status(): DanteSubscriptionStatus {
    const m = this.subscription?.metrics;
    const counts = { packets: m?.packets ?? 0, late: m?.late ?? 0, ...(m && m.packets > 0 ? { worstMarginNs: m.worstMarginNs } : {}), warnings: this.warnings() };
    if (this.refusal) return { ...this.refusal, ...counts };
    if (!m) return { state: 'unresolved', reason: 'flow not found: no SDP (no SAP announcement heard)', ...counts };
    const quiet = this.o.noAudioAfterNs ?? 1e9;
    const lastHeard = m.lastArrivalNs ?? this.subscribedAt;
    if (this.now - lastHeard >= quiet) {
      return { state: 'no-audio', reason: m.packets === 0 ? `subscribed, no audio: no packets in ${quiet / 1e9} s` : `subscribed, no audio: no packets for ${((this.now - lastHeard) / 1e9).toFixed(3)} s`, ...counts };
    }
    if (m.packets > 0 && m.late === m.packets) {
      return { state: 'no-audio', reason: `subscribed, no audio: every packet arrived after the ${(this.windowNs / 1e6).toFixed(1)} ms window (worst margin ${(m.worstMarginNs / 1e6).toFixed(3)} ms)`, ...counts };
    }
    if (m.packets === 0) return { state: 'subscribed', reason: 'subscribed, waiting for the first packet', ...counts };
    const lateText = m.late > 0 ? `; ${m.late} of ${m.packets} packets late (dropped, audible), worst margin ${(m.worstMarginNs / 1e6).toFixed(3)} ms` : '';
    return { state: 'subscribed', reason: `subscribed${lateText}`, ...counts };
  }

  private warnings(): string[] {
    const d = this.description;
    if (!d) return [];
    const w: string[] = [];
    // FIELD-NOTES "What breaks Dante": announce a=recvonly (Dante's own flows do); whether
    // Dante refuses other directions is unverified.
    if (d.direction !== 'recvonly') w.push(`${d.direction ? `a=${d.direction}` : 'no direction attribute'} where Dante devices announce a=recvonly (effect on Dante unverified)`);
    return w;
  }

  private get windowNs(): number {
    return this.o.windowNs ?? DANTE_AES67_WINDOW_NS;
  }

  private refresh(): void {
    const text = this.source.current();
    if (text === undefined || text === this.sdpText) return;
    this.sdpText = text;
    const before = this.description && streamKey(this.description);
    this.refusal = this.judge(text);
    // A new description of the same stream (a new version, grandmaster or labels) keeps playing.
    if (!this.refusal && this.subscription && before === streamKey(this.description!)) return;
    this.subscription?.close();
    this.subscription = undefined;
    if (this.refusal) return;
    this.subscribedAt = this.now;
    this.subscription = new RtpSubscription({ transport: this.o.transport, timescale: this.o.timescale, stream: this.description!, playoutDelayNs: this.windowNs, recordSeconds: this.o.recordSeconds });
  }

  /** Why Dante would not play this flow, or undefined when it subscribes. */
  private judge(text: string): { state: DanteSubscriptionState; reason: string } | undefined {
    let d: Aes67StreamDescription;
    try {
      d = describeAes67(text);
    } catch (e) {
      if (!(e instanceof SdpError)) throw e;
      return { state: 'prohibited', reason: `prohibited: SDP not usable (${e.message})` };
    }
    this.description = d;
    // #94: session-level source-filter, i.e. one before the first m= line.
    const sessionPart = text.split(/\r?\nm=/)[0];
    if (/^a=source-filter:/m.test(sessionPart)) {
      return { state: 'unresolved', reason: 'unresolved: flow not listed (session-level a=source-filter, aes67-linux-daemon#94)' };
    }
    if (!/^[1-9]\d*$/.test(d.origin.sessionId) || !/^[1-9]\d*$/.test(d.origin.sessionVersion)) {
      return { state: 'prohibited', reason: `prohibited: o= session id "${d.origin.sessionId}" / version "${d.origin.sessionVersion}" (aes67-linux-daemon#10; Dante wants non-zero numbers, rule unverified)` };
    }
    if (d.sampleRate !== 48000) return { state: 'prohibited', reason: `prohibited: ${d.sampleRate} Hz (Dante receives AES67 at 48 kHz only)` };
    if (d.encoding !== 'L16' && d.encoding !== 'L24') return { state: 'prohibited', reason: `prohibited: ${d.encoding} (Dante receives L16 or L24)` };
    if (d.channels > DANTE_AES67_MAX_CHANNELS) return { state: 'prohibited', reason: `prohibited: ${d.channels} channels (Dante receives at most ${DANTE_AES67_MAX_CHANNELS} per flow)` };
    if (!DANTE_AES67_RX_PTIMES_US.includes(d.ptimeUs)) return { state: 'prohibited', reason: `prohibited: packet time ${d.ptimeUs} µs (Dante receives 125, 250, 333 µs or 1 ms)` };
    // Unverified: FIELD-NOTES states multicast for Dante's AES67 transmit; Dante finds AES67
    // flows by SAP, and this model subscribes to multicast ones only.
    if (!isMulticast(d.destination)) return { state: 'prohibited', reason: `prohibited: unicast ${d.destination} (this model receives multicast AES67 flows only; unverified for real Dante)` };
    if (!inMulticastPrefix(d.destination, this.prefix)) {
      return { state: 'no-audio', reason: `subscribed, no audio: multicast prefix (flow on ${d.destination}, device prefix ${this.prefix})` };
    }
    return undefined;
  }
}
