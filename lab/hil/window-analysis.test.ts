// The window analysis against audio built here from the sender's own signals: a faithful
// loopback delayed by a known round trip is bit-exact with that round trip found by the
// probe; a dropout is one glitch even where two overlapping windows both hold it; swapped
// channels are mismatches; a window without the probe compares with the last round trip.
import { describe, expect, it } from 'vitest';
import { quantizeInPlace } from '../scenario/measure.ts';
import { channelSignals } from '../scenario/sender-signal.ts';
import type { SenderSpec } from '../scenario/schema.ts';
import { planScenario } from './plan.ts';
import { rigSchema } from './rig.ts';
import { streamsStoppedAtEnd, WindowAnalyser, type WindowAudio } from './window-analysis.ts';
import { scenarioSchema } from '../scenario/schema.ts';

const RATE = 48_000;
const RT = 1184; // samples: any round trip shorter than the MLS period
const scenario = scenarioSchema.parse({
  name: 'w',
  description: 'd',
  proves: 'p',
  duration: '2s',
  senders: [
    { name: 'a', kind: 'aes67', channels: 2, probe: { channel: 2 } },
    { name: 'b', kind: 'aes67', channels: 2 },
  ],
  expect: { 'glitches.count': { equals: 0 } },
});
const rig = rigSchema.parse({ lab: { interface: 'eth0', address: '10.0.0.1' }, dut: { kind: 'software-dut', address: '10.0.0.2', control: 'unix:/x' }, loopback: { 1: 1, 2: 2, 3: 3, 4: 4 } });
const plan = planScenario(scenario, rig);
const signals = scenario.senders.map((s: SenderSpec) => ({ encoding: 'L24' as const, signals: channelSignals(s, 2, RATE, 'w.yaml'), ...(s.probe ? { probeChannel: s.probe.channel - 1, probeDegree: s.probe.degree } : {}) }));

/** What a faithful DUT sends back for stream `t` from media time `first`: its origins delayed by RT. */
function returned(t: number, first: number, frames: number, swap = false): WindowAudio {
  const out = new Float32Array(frames * 2);
  plan.transmit[t].origins.forEach((o, k) => {
    const kk = swap ? 1 - k : k;
    const x = quantizeInPlace(signals[o!.sender].signals[o!.channel].signal.render(first - RT, frames, 1), 'L24');
    for (let i = 0; i < frames; i++) out[i * 2 + kk] = x[i];
  });
  return { stream: t, firstSample: first, channels: 2, interleaved: out, framesPerPacket: 48 };
}

describe('WindowAnalyser', () => {
  const start = 85_000_000_000_000; // a media time like the field's

  it('a faithful loopback: the probe finds the round trip, every sample matches, no glitch', () => {
    const a = new WindowAnalyser(plan.transmit, signals, RATE);
    const r = a.analyse([returned(0, start, RATE), returned(1, start, RATE)]);
    expect(r.roundTrip).toBe(RT);
    expect(r.confidence).toBeGreaterThan(1000);
    expect(r.mismatched).toBe(0);
    expect(r.compared).toBeGreaterThan(4 * (RATE - 200));
    expect(r.glitches).toEqual([]);
    expect(r.analysedChannels).toBe(2);
    // lab/measure/sine-quality finds the sent tone, unhinted, and clean.
    expect(r.sines.map((q) => [q.output, Math.round(q.frequencyHz * 1000) / 1000])).toEqual([[1, 997], [3, 997]]);
    expect(Math.max(...r.sines.map((q) => q.thdnDb))).toBeLessThan(-80);
  });

  it('a dropout held by two overlapping windows is one glitch, and its samples are mismatches', () => {
    const a = new WindowAnalyser(plan.transmit, signals, RATE);
    const w1 = returned(1, start, RATE);
    const w2 = returned(1, start + RATE - 4800, RATE);
    const at = start + RATE - 2400; // inside both windows
    for (const w of [w1, w2]) for (let i = 0; i < 48; i++) w.interleaved[(at - w.firstSample + i) * 2] = 0;
    const r1 = a.analyse([returned(0, start, RATE), w1]);
    const r2 = a.analyse([returned(0, start + RATE - 4800, RATE), w2]);
    expect(r1.glitches.length + r2.glitches.length).toBe(1);
    expect(r1.glitches[0]?.output).toBe(3);
    expect(r1.mismatched).toBeGreaterThanOrEqual(40);
  });

  it("a stream's window that came back empty is a dropout as long as the hole, counted once", () => {
    const a = new WindowAnalyser(plan.transmit, signals, RATE);
    const step = RATE - 4800; // windows of 1 s overlapping by 0.1 s
    const r1 = a.analyse([returned(0, start, RATE), returned(1, start, RATE)]);
    // The next window: stream 1 came back empty (only stream 0's audio is handed over).
    const r2 = a.analyse([returned(0, start + step, RATE)]);
    const r3 = a.analyse([returned(0, start + 2 * step, RATE), returned(1, start + 2 * step, RATE)]);
    expect([...r1.glitches, ...r2.glitches]).toEqual([]);
    expect(r3.glitches).toHaveLength(1);
    const g = r3.glitches[0];
    expect(g.kinds).toEqual(['dropout']);
    expect(g.output).toBe(3);
    // From where window 1's steady part ended to where window 3's begins.
    expect(g.sample).toBe(start + RATE - 48);
    expect(g.sample + g.length).toBe(start + 2 * step + 2 * 48);
  });

  it('swapped channels are mismatches; the probe is not where the map says', () => {
    const a = new WindowAnalyser(plan.transmit, signals, RATE);
    const r = a.analyse([returned(0, start, RATE, true), returned(1, start, RATE, true)]);
    expect(r.confidence ?? 0).toBeLessThan(100);
    expect(r.mismatched).toBeGreaterThan(RATE);
    // Output 2 plays sender a channel 2 (the probe) where the map says its sine 997 Hz is: not a 997 Hz tone.
    expect(r.sines.find((q) => q.output === 1)?.frequencyHz).not.toBeCloseTo(997, 0);
  });

  it('a window without a probe compares with the last round trip found', () => {
    const a = new WindowAnalyser(plan.transmit, signals, RATE);
    a.analyse([returned(0, start, RATE)]);
    const r = a.analyse([returned(1, start + RATE, RATE)]);
    expect(r.roundTrip).toBeUndefined();
    expect(r.comparedWith).toBe(RT);
    expect(r.mismatched).toBe(0);
    expect(r.compared).toBeGreaterThan(0);
  });

  it('a stream analysed before whose last windows came back empty stopped; one never analysed or back at the end did not', () => {
    // Streams 0..3: 0 back to the end, 1 empty in its last 2 windows, 2 never analysed (no sine), 3 empty in its last.
    expect(streamsStoppedAtEnd([0, 2, 5, 1], [0, 1, 3, 1, 0, 3])).toEqual([1, 3]);
    expect(streamsStoppedAtEnd([0, 0], [0, 1])).toEqual([]);
    // A stop inside the last window leaves no empty window after it: its audio ended early there.
    expect(streamsStoppedAtEnd([0, 0, 0], [0, 1, 2], [false, true, false])).toEqual([1]);
    // Never analysed (no sine): not judged, however quiet.
    expect(streamsStoppedAtEnd([0, 0], [0], [false, true])).toEqual([]);
  });
});
