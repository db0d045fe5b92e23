// Run inside a network namespace by rtp-receiver-live.test.ts (`ip netns exec <ns> tsx this.ts
// <interface> <seconds> <receivers JSON>`): the engine's RtpReceivers on real UDP sockets
// (UdpTransport pinned to the interface), each with its own PlayoutBuffer read as it fills.
// Prints "ready" once every socket is open and joined, then, after <seconds>, one JSON line
// per receiver: its stats, its playout stats and the frequency of its channel 0 measured on
// quarter-second windows without a dropout. Every loop is bounded in time.
import { loadNative } from '../index.ts';
import type { PlayoutBuffer, RtpReceiver } from '../rtp.ts';

interface ReceiverSpec {
  destination: string;
  sourceFilter?: string;
  ssrcHoldoffNs?: number;
}

const [interfaceName = '', secondsText = '5', specText = '[]'] = process.argv.slice(2);
const specs = JSON.parse(specText) as ReceiverSpec[];
const native = loadNative();
const RATE = 48000;
const WINDOW = RATE / 4;
const MARGIN = 480; // read 10 ms behind the newest frame: room for reordering and a late poll
const MAX_FRAMES = RATE * Number(secondsText);

interface Running {
  spec: ReceiverSpec;
  playout: PlayoutBuffer;
  rx: RtpReceiver;
  cursor: number | null;
  audio: Float32Array;
  frames: number;
}

const running: Running[] = specs.map((spec) => {
  const playout = new native.PlayoutBuffer({ channels: 2, capacityFrames: 1 << 15, linkOffset: MARGIN });
  const rx = new native.RtpReceiver({ interfaceName }, null, { destination: spec.destination, sourceFilter: spec.sourceFilter, ssrcHoldoffNs: spec.ssrcHoldoffNs, format: { encoding: 'L24', channels: 2, sampleRate: RATE } }, playout);
  return { spec, playout, rx, cursor: null, audio: new Float32Array(MAX_FRAMES), frames: 0 };
});
process.stdout.write('ready\n');

function drain(r: Running): void {
  r.rx.poll();
  const newest = r.playout.newestWritten();
  if (newest === null) return;
  if (r.cursor === null) r.cursor = newest - MARGIN;
  const until = newest - MARGIN;
  while (r.cursor < until && r.frames < MAX_FRAMES) {
    const n = Math.min(until - r.cursor, 1024, MAX_FRAMES - r.frames);
    const block = r.playout.read(r.cursor, n);
    for (let f = 0; f < n; f++) r.audio[r.frames + f] = block[2 * f];
    r.frames += n;
    r.cursor += n;
  }
}

// Zero crossings of channel 0 on each full window, as a frequency (Hz); a window with a
// dropout (a run of 8 or more exact zeros: a sine at these levels and frequencies has at
// most one) is left out and counted instead, since a loaded host's scheduler decides those.
function windowFrequencies(audio: Float32Array, frames: number): { frequencies: number[]; windowsWithDropouts: number } {
  const frequencies: number[] = [];
  let windowsWithDropouts = 0;
  for (let start = 0; start + WINDOW <= frames; start += WINDOW) {
    let crossings = 0;
    let sign = 0;
    let zeros = 0;
    let dropout = false;
    for (let f = start; f < start + WINDOW; f++) {
      const s = Math.sign(audio[f]);
      zeros = s === 0 ? zeros + 1 : 0;
      dropout ||= zeros >= 8;
      if (s !== 0 && sign !== 0 && s !== sign) crossings++;
      if (s !== 0) sign = s;
    }
    if (dropout) windowsWithDropouts++;
    else frequencies.push((crossings / 2) * (RATE / WINDOW));
  }
  return { frequencies, windowsWithDropouts };
}

const deadline = Date.now() + Number(secondsText) * 1000;
const timer = setInterval(() => {
  for (const r of running) drain(r);
  if (Date.now() < deadline) return;
  clearInterval(timer);
  const result = running.map((r) => ({
    ...r.spec,
    stats: r.rx.stats(),
    playout: r.playout.stats(),
    framesRead: r.frames,
    ...windowFrequencies(r.audio, r.frames),
  }));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}, 2);
