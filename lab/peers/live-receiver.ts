// The lab's receiving side as one process for live runs (started inside a namespace by
// the live tests): discovers a session by SAP or by DNS-SD + RTSP, subscribes an
// Aes67Receiver (and, for SAP, a DanteAes67Receiver), runs for the given seconds and
// prints one JSON document with what it found, the RTP metrics and a sine fit of what it
// heard. Usage: node --import tsx lab/peers/live-receiver.ts '<json options>'
import { fitSine } from '../analyze/sine-fit.ts';
import { runRealTime, udpTransport, type TimedActor } from '../net/lab-transport.ts';
import { MdnsBrowser } from '../net/mdns-browser.ts';
import { RavennaSessionClient } from '../net/rtsp-client.ts';
import { tcpStreams } from '../net/rtsp-stream.ts';
import { createSignal, type SignalSpec } from '../signal/index.ts';
import { Aes67Receiver } from './aes67-receiver.ts';
import type { ReceivedAudio } from './rtp-subscription.ts';
import { DanteAes67Receiver } from './dante-aes67-receiver.ts';
import { SapListener } from './sap-listener.ts';
import { systemTimescale } from './system-timescale.ts';

export interface LiveReceiverOptions {
  interface: string;
  seconds: number;
  mode: 'sap' | 'ravenna';
  /** SAP: the s= name; RAVENNA: the session (DNS-SD instance) name. */
  name: string;
  wav?: string;
  /** The signal the sender plays: every received frame is compared with it at its absolute index. */
  expectSignal?: SignalSpec;
}

/** Frames that arrived but differ from the expected signal by more than `tolerance` on a channel. */
function mismatchedFrames(a: ReceivedAudio, spec: SignalSpec, tolerance: number): number {
  const frames = a.interleaved.length / a.channels;
  if (frames === 0) return 0;
  const want = createSignal(spec, a.sampleRate).render(Number(a.firstSample), frames, a.channels);
  let bad = 0;
  for (let f = 0; f < frames; f++) {
    let silent = true;
    let differs = false;
    for (let c = 0; c < a.channels; c++) {
      const i = f * a.channels + c;
      if (a.interleaved[i] !== 0) silent = false;
      if (Math.abs(a.interleaved[i] - want[i]) > tolerance) differs = true;
    }
    if (differs && !silent) bad++; // silent frames are the missing ones, counted apart
  }
  return bad;
}

export async function liveReceiver(o: LiveReceiverOptions): Promise<Record<string, unknown>> {
  const transport = udpTransport(o.interface);
  const timescale = systemTimescale(transport);
  const actors: TimedActor[] = [];
  let listener: SapListener | undefined;
  let browser: MdnsBrowser | undefined;
  let session: RavennaSessionClient | undefined;
  let dante: DanteAes67Receiver | undefined;
  let receiver: Aes67Receiver;
  if (o.mode === 'sap') {
    listener = new SapListener({ transport });
    receiver = new Aes67Receiver({ transport, timescale, source: listener.sdpSource(o.name) });
    dante = new DanteAes67Receiver({ transport, timescale, source: listener.sdpSource(o.name) });
    actors.push(listener, receiver, dante);
  } else {
    browser = new MdnsBrowser({ transport });
    session = new RavennaSessionClient({ browser, streams: tcpStreams(transport.address), sessionName: o.name });
    receiver = new Aes67Receiver({ transport, timescale, source: session });
    actors.push(browser, session, receiver);
  }
  process.stderr.write(`live receiver listening on ${o.interface} (${transport.address})\n`);
  await runRealTime(actors, transport, { durationNs: o.seconds * 1e9 });
  const subscriptions = receiver.subscriptions.map((s) => {
    const a = s.audio();
    const fits = [];
    for (let c = 0; c < a.channels; c++) {
      const f = a.interleaved.length > 3 * a.channels ? fitSine(a.interleaved, a.sampleRate, a.channels, c) : undefined;
      fits.push(f && { frequencyHz: f.frequencyHz, amplitude: f.amplitude, maxResidual: f.maxResidual });
    }
    const lsb = 2 ** -({ L16: 15, L24: 23, L32: 31 }[a.encoding]);
    const mismatched = o.expectSignal ? mismatchedFrames(a, o.expectSignal, 2 * lsb) : undefined;
    return { stream: s.stream, metrics: s.metrics, frames: a.interleaved.length / a.channels, missingFrames: a.missingFrames, mismatchedFrames: mismatched, fits };
  });
  if (o.wav && receiver.audio()) receiver.writeWav(o.wav);
  const out = {
    address: transport.address,
    state: receiver.state,
    error: receiver.error,
    sdp: receiver.sdp,
    sdpUpdates: receiver.sdpUpdates,
    subscriptions,
    sap: listener && { sessions: listener.sessions().map((s) => ({ name: s.name, from: s.from, msgIdHash: s.msgIdHash, announcements: s.announcements })), dropped: Object.fromEntries(listener.dropped) },
    dante: dante?.status(),
    danteAudio: dante?.audio() && { missingFrames: dante.audio()!.missingFrames, mismatchedFrames: o.expectSignal ? mismatchedFrames(dante.audio()!, o.expectSignal, 2 ** -22) : undefined },
    mdns: browser && { instances: browser.instances(), stats: browser.stats },
    rtsp: session?.client && { url: session.client.o.url, state: session.client.state, error: session.client.error, describes: session.client.describes, announcements: session.client.announcements },
  };
  for (const a of [listener, browser, session, receiver, dante]) a?.close();
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const options = JSON.parse(process.argv[2] ?? '{}') as LiveReceiverOptions;
  liveReceiver(options).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`live receiver: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
