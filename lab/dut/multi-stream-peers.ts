// The lab's side of the many-streams crossing as one process per namespace (started by
// dut-16-streams.live.test.ts): `send` runs N Aes67Senders (each its own group, its own
// tones) on one real-time loop and prints their SDPs as one JSON line; `receive` subscribes
// one Aes67Receiver per SDP, runs for the given seconds, and prints per stream the RTP
// metrics and per channel the lab's sine fit and glitch count, as one JSON line (the audio
// itself stays in this process: 128 channels of it would not fit a pipe comfortably).
// Usage: node --import tsx lab/dut/multi-stream-peers.ts '<json options>'
import { setRealTimePriority } from '../net/real-time-priority.ts';
import { fitSine } from '../analyze/sine-fit.ts';
import { runRealTime, udpTransport, type LabTransport, type TimedActor } from '../net/lab-transport.ts';
import { detectChannelGlitches } from '../measure/glitches.ts';
import { Aes67Receiver } from '../peers/aes67-receiver.ts';
import { Aes67Sender } from '../peers/aes67-sender.ts';
import { systemTimescale } from '../peers/system-timescale.ts';

/** Both modes: SCHED_FIFO priority to take once started (absent: normal scheduling). */
interface PeerOptions {
  fifoPriority?: number;
}

export interface SendOptions extends PeerOptions {
  mode: 'send';
  interface: string;
  seconds: number;
  channels: number;
  framesPerPacket: number;
  levelDbfs: number;
  channelStepHz: number;
  streams: Array<{ destination: string; frequencyHz: number; name: string }>;
}

export interface ReceiveOptions extends PeerOptions {
  mode: 'receive';
  interface: string;
  seconds: number;
  sdps: string[];
  /** Per stream, per channel: the frequency the channel should carry. */
  expectHz: number[][];
}

export interface ChannelResult {
  frequencyHz: number;
  amplitude: number;
  glitches: number;
  seconds: number;
}

export interface StreamResult {
  destination?: string;
  state: string;
  error?: string;
  packets: number;
  lost: number;
  duplicates: number;
  reordered: number;
  ssrcChanges: number;
  jitterMaxNs: number;
  missingFrames: number;
  channels: ChannelResult[];
}

/** A gap between two turns of a peer's poll loop longer than STALL_NS: when it ended (CLOCK_MONOTONIC ns) and how long it was. */
export interface Stall {
  atNs: number;
  gapNs: number;
}

/** A turn of the loop this much later than the previous one is a stall of the peer process (its packets leave that late). */
const STALL_NS = 20_000_000;

/**
 * Polled on every turn of runRealTime's loop beside the peers, it notes the turns that came
 * late: the test lines them up with its window (CLOCK_MONOTONIC is one clock in every
 * namespace), so a glitch can be put down to a lab process that stalled, or not.
 */
function stallWatch(transport: LabTransport): TimedActor & { stalls: Stall[] } {
  let last = transport.now();
  const stalls: Stall[] = [];
  return {
    stalls,
    poll(now) {
      if (now - last > STALL_NS && stalls.length < 1000) stalls.push({ atNs: now, gapNs: now - last });
      last = now;
      return Infinity;
    },
  };
}

async function send(o: SendOptions): Promise<Record<string, unknown>> {
  const transport = udpTransport(o.interface);
  const timescale = systemTimescale(transport);
  const senders = o.streams.map(
    (s) =>
      new Aes67Sender({
        transport,
        timescale,
        destination: s.destination,
        channels: o.channels,
        sampleRate: 48_000,
        encoding: 'L24',
        framesPerPacket: o.framesPerPacket,
        signal: { kind: 'sine', frequencyHz: s.frequencyHz, levelDbfs: o.levelDbfs, channelStepHz: o.channelStepHz },
        sessionName: s.name,
      }),
  );
  if (o.fifoPriority) setRealTimePriority(o.fifoPriority, 'all-threads');
  process.stdout.write(`${JSON.stringify({ sdps: senders.map((s) => s.sdp()) })}\n`);
  // SIGTERM ends the run early; the closing figures are still printed.
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  // Timer pacing (runRealTime's default): a sender sends every packet that fell due since its
  // last poll, so packets leave within ~1 ms of their time, well inside the DUT's link offset,
  // at a few percent of a core, and the process can run SCHED_FIFO without starving the host.
  const watch = stallWatch(transport);
  await runRealTime([watch, ...senders], transport, { durationNs: o.seconds * 1e9, signal: stop.signal });
  const stats = senders.map((s) => s.stats);
  for (const s of senders) s.close();
  return { stats, stalls: watch.stalls };
}

async function receive(o: ReceiveOptions): Promise<Record<string, unknown>> {
  const transport = udpTransport(o.interface);
  const timescale = systemTimescale(transport);
  const receivers = o.sdps.map((sdp) => new Aes67Receiver({ transport, timescale, source: sdp, recordSeconds: o.seconds + 1 }));
  if (o.fifoPriority) setRealTimePriority(o.fifoPriority, 'all-threads');
  process.stderr.write(`receiving ${receivers.length} streams on ${o.interface} (${transport.address})\n`);
  const watch = stallWatch(transport);
  await runRealTime([watch, ...receivers], transport, { durationNs: o.seconds * 1e9 });
  // The window is over: the test stops the senders and the DUT on this line, before the
  // analysis below takes its seconds of CPU.
  for (const r of receivers) r.close();
  process.stderr.write(`captured ${o.seconds} s\n`);
  // The analysis below is seconds of CPU: back to normal scheduling first, or a SCHED_FIFO
  // receiver would starve everything else on a 2-core host (the test's own process included).
  if (o.fifoPriority) setRealTimePriority(0, 'all-threads');
  const streams: StreamResult[] = receivers.map((r, i) => {
    const m = r.metrics();
    const a = r.audio();
    const channels: ChannelResult[] = [];
    if (a && a.interleaved.length > 0) {
      const frames = a.interleaved.length / a.channels;
      for (let c = 0; c < a.channels; c++) {
        const x = new Float32Array(frames);
        for (let f = 0; f < frames; f++) x[f] = a.interleaved[f * a.channels + c];
        const g = detectChannelGlitches(x, a.sampleRate, c, { frequencyHz: o.expectHz[i]?.[c] });
        const fit = fitSine(x.subarray(g.analysedFrom, g.analysedTo), a.sampleRate);
        channels.push({ frequencyHz: fit.frequencyHz, amplitude: fit.amplitude, glitches: g.glitches.length, seconds: (g.analysedTo - g.analysedFrom) / a.sampleRate });
      }
    }
    return {
      destination: r.stream?.destination,
      state: r.state,
      error: r.error,
      packets: m?.packets ?? 0,
      lost: m?.lost ?? 0,
      duplicates: m?.duplicates ?? 0,
      reordered: m?.reordered ?? 0,
      ssrcChanges: m?.ssrcChanges ?? 0,
      jitterMaxNs: m?.jitterMaxNs ?? 0,
      missingFrames: a?.missingFrames ?? 0,
      channels,
    };
  });
  return { streams, stalls: watch.stalls };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const options = JSON.parse(process.argv[2] ?? '{}') as SendOptions | ReceiveOptions;
  (options.mode === 'send' ? send(options) : receive(options)).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`multi-stream peers: ${(e as Error).stack ?? (e as Error).message}\n`);
      process.exit(1);
    },
  );
}
