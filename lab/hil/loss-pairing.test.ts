// The relay's drops against what comes back, without a network: a LossLedger fed RTP
// headers whose timestamps the lab's own rtpTimestampOf wrote (with a mediaclk offset, across
// the 32-bit wrap) gives back the dropped media; audio "returned" by a faithful loopback with
// exactly those packets zeroed is judged by the real window analysis (lab/measure/glitches):
// every gap heard, none elsewhere, nothing mismatched outside them; a gap the DUT hid, or a
// glitch where nothing was dropped, breaks the pairing.
import { describe, expect, it } from 'vitest';
import { LossLedger } from '../impair/loss-ledger.ts';
import { rtpTimestampOf } from '../net/ptp-timescale.ts';
import { quantizeInPlace } from '../scenario/measure.ts';
import { channelSignals } from '../scenario/sender-signal.ts';
import { scenarioSchema, type SenderSpec } from '../scenario/schema.ts';
import { lostMedia, pairLossWithGlitches, type MediaGap } from './loss-pairing.ts';
import { planScenario } from './plan.ts';
import { rigSchema } from './rig.ts';
import { WindowAnalyser, type WindowAudio } from './window-analysis.ts';

const RATE = 48_000;
const RT = 4_931; // samples: a round trip like the software DUT's at a 100 ms link offset
const FRAMES = 48;

function rtpHeader(seq: number, ts: number): Buffer {
  const b = Buffer.alloc(12 + FRAMES * 6);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(0x1234, 8);
  return b;
}

describe('lostMedia', () => {
  it('gives back the media of each dropped datagram, through the mediaclk offset and the 32-bit wrap', () => {
    const offset = 0xfffff000; // the timestamps wrap a few packets in
    const first = 85_000_000_000_000;
    const ledger = new LossLedger();
    const droppedAt = [3, 4, 170, 171, 172, 900];
    const sentAt = (k: number) => 1e9 + k * 1e6;
    for (let k = 0; k < 1000; k++) {
      const m = first + k * FRAMES;
      ledger.record('239.1.1.1:5004', 'in', rtpHeader(k, rtpTimestampOf(BigInt(m), offset)), sentAt(k), droppedAt.includes(k) ? [] : [2e6]);
    }
    // Media time at local t: the sender's clock, sending each packet ~1 ms after its first frame.
    const mediaAt = (t: number) => first + ((t - 1e9) / 1e9) * RATE - 48;
    const lost = lostMedia(ledger, [{ endpoint: '239.1.1.1:5004', sender: 0, mediaclkOffset: offset, framesPerPacket: FRAMES, mediaAt }]);
    expect(lost).toEqual(droppedAt.map((k) => ({ sender: 0, from: first + k * FRAMES, to: first + (k + 1) * FRAMES })));
    expect(lostMedia(ledger, [{ endpoint: '239.1.1.2:5004', sender: 0, mediaclkOffset: offset, framesPerPacket: FRAMES, mediaAt }])).toEqual([]);
  });
});

describe('pairLossWithGlitches on the window analysis', () => {
  const scenario = scenarioSchema.parse({
    name: 'p',
    description: 'd',
    proves: 'p',
    duration: '2s',
    senders: [{ name: 'a', kind: 'aes67', channels: 2, probe: { channel: 2 } }],
    expect: { 'glitches.equalsLost': { equals: true } },
  });
  const rig = rigSchema.parse({ lab: { interface: 'eth0', address: '10.0.0.1' }, dut: { kind: 'software-dut', address: '10.0.0.2', control: 'unix:/x' }, loopback: { 1: 1, 2: 2 } });
  const plan = planScenario(scenario, rig);
  const signals = scenario.senders.map((s: SenderSpec) => ({ encoding: 'L24' as const, signals: channelSignals(s, 2, RATE, 'p.yaml'), probeChannel: s.probe!.channel - 1, probeDegree: s.probe!.degree }));
  const start = 85_000_000_000_000 - (85_000_000_000_000 % FRAMES);

  /** What a DUT sends back: the sender delayed by RT, silent where `zeroed` (sender media) says. */
  function returned(first: number, frames: number, zeroed: MediaGap[]): WindowAudio {
    const out = new Float32Array(frames * 2);
    plan.transmit[0].origins.forEach((o, k) => {
      const x = quantizeInPlace(signals[o!.sender].signals[o!.channel].signal.render(first - RT, frames, 1), 'L24');
      for (let i = 0; i < frames; i++) out[i * 2 + k] = x[i];
    });
    for (const g of zeroed) for (let m = g.from + RT; m < g.to + RT; m++) if (m >= first && m < first + frames) out.fill(0, (m - first) * 2, (m - first) * 2 + 2);
    return { stream: 0, firstSample: first, channels: 2, interleaved: out, framesPerPacket: FRAMES };
  }
  const gap = (packet: number): MediaGap => ({ sender: 0, from: start + packet * FRAMES, to: start + (packet + 1) * FRAMES });
  const lost = [gap(300), gap(301), gap(777), gap(1500), gap(2400)];

  const judge = (zeroed: MediaGap[]) => {
    const a = new WindowAnalyser(plan.transmit, signals, RATE);
    const w = 3 * RATE;
    const r = a.analyse([{ ...returned(start, w, zeroed), lost }]);
    return { r, p: pairLossWithGlitches(lost, r.spans ?? [], r.glitches) };
  };

  it('the DUT that loses exactly the dropped packets: every gap heard, none elsewhere, bit-exact outside them', () => {
    const { r, p } = judge(lost);
    expect(r.roundTrip).toBe(RT);
    expect(r.mismatched).toBe(0);
    expect(r.skippedAsLost).toBe(2 * lost.length * FRAMES);
    // 300 and 301 are one stretch, as a listener hears them.
    expect(p).toEqual({ expected: 4, heard: 4, unexplained: 0, notes: [] });
    expect(r.glitches.length).toBe(4);
  });

  it('a DUT that hides a dropped packet (plays something else there) leaves a gap unheard', () => {
    const { p } = judge(lost.filter((g) => g.from !== gap(777).from));
    expect(p.expected).toBe(4);
    expect(p.heard).toBe(3);
    expect(p.notes.join(' ')).toMatch(/was not heard/);
  });

  it('a DUT that loses a packet nobody dropped makes a glitch the relay does not explain', () => {
    const { r, p } = judge([...lost, gap(2000)]);
    expect(p.unexplained).toBe(1);
    expect(p.heard).toBe(4);
    expect(r.mismatched).toBeGreaterThan(0);
  });
});
