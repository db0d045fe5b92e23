// The measurement's fast way (measureScenario without `reference`) must measure exactly
// what its straightforward way measures (`reference: true`): the returned audio read
// channel by channel from the recorded payload bytes (returned-audio.ts) against every
// returned stream decoded whole (recordedAudio); each channel compared with one quantised
// period of its periodic signal (expected-audio.ts) against its whole span rendered and
// quantised; gap by gap, a slice of frames at a time, against through a mask of its gaps;
// glitches heard by the C++ detector (lab/measure/native-glitches.ts) against the
// TypeScript one (lab/measure/glitches.ts), in measure.ts and in expect-lost.ts's ledger.
// Each scenario is recorded once and measured both ways, and the measurements (every
// expectation, figure, series, latency window and glitch) compared whole. The scenarios
// cover: 64 channels with the probe (latency windows) on native receivers; losses and late
// packets as gaps, heard as glitches in the sine; L16, L24 quantised to L16, L32, L16 into
// L32; TypeScript receivers (a grandmaster failover); and returned audio that differs from
// what was sent (bytes of the native recordings changed after the run), counted the same both ways.
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { addonBuilt, addonMissingNote, projectRoot } from '../../native/index.ts';
import { NativeAes67Receiver } from '../peers/native-aes67-receiver.ts';
import { loadScenario, type LoadedScenario } from './load.ts';
import { measureScenario, type Measured } from './measure.ts';
import { recordScenario, type RunRecord } from './runner.ts';
import { scenarioSchema } from './schema.ts';
import { parseYamlWith } from './yaml-source.ts';

const scenario = (name: string) => loadScenario(path.join(projectRoot, 'scenarios', name));
const file = 'lab/scenario/measure-fast.test.ts';
const fromYaml = (yaml: string): LoadedScenario => ({ file, scenario: parseYamlWith(file, yaml, scenarioSchema) });

/** bench/virtual-speed.ts's scenario, shorter: 8 senders x 8 channels with the probe, through the device with PTP. */
const benchShape = () =>
  fromYaml(`name: bench-shape
description: bench/virtual-speed.ts's scenario, 6 s
proves: the fast measurement measures what the reference one does
duration: 6s
grandmasters: [{ name: gm }]
senders:
${Array.from({ length: 8 }, (_, i) => `  - { name: s${i + 1}, kind: aes67, channels: 8${i === 7 ? ', probe: { channel: 8 }' : ''} }`).join('\n')}
device: { inputs: 64, outputs: 64, buffer: 64, linkOffset: 2ms }
expect:
  latency.error: { equals: 0 }
  audio.mismatched: { equals: 0 }
`);

/** L32 sent and returned, L16 sent and returned in L32, both returned in L16 too. */
const encodings = () =>
  fromYaml(`name: encodings
description: L32 and L16 senders, returned in L32 and in L16
proves: the fast measurement reads L16 and L32 as the reference one does
duration: 2s
senders:
  - { name: a, kind: aes67, channels: 2, encoding: L32, probe: { channel: 2 } }
  - { name: b, kind: aes67, channels: 2, encoding: L16, signal: { sine: 1500Hz, level: -12dBFS, step: 211Hz } }
device:
  buffer: 64
  linkOffset: 2ms
  tx:
    - { name: all, channels: 4, encoding: L32, map: [1, 2, 3, 4] }
    - { name: coarse, channels: 4, encoding: L16, map: [4, 3, 2, 1] }
receivers:
  - { name: l16 rx, kind: aes67, stream: coarse }
expect:
  audio.mismatched: { equals: 0 }
  latency.error: { equals: 0 }
`);

/** Measured both ways from one recording; compared part by part so a difference names its part. */
function bothWays(r: RunRecord): Measured {
  const ref = measureScenario(r, { reference: true });
  const fast = measureScenario(r);
  for (const k of Object.keys(ref) as (keyof Measured)[]) {
    if (!isDeepStrictEqual(fast[k], ref[k])) expect({ [k]: fast[k] }).toEqual({ [k]: ref[k] });
  }
  expect(JSON.stringify(fast)).toBe(JSON.stringify(ref));
  return fast;
}

const record = (l: LoadedScenario) => recordScenario(l, l.scenario.seed);
/** The receivers the measurement reads, and whether they are the native ones. */
const measuring = (r: RunRecord) => r.receivers.filter((x) => x.measures).map((x) => x.receiver instanceof NativeAes67Receiver);
const value = (m: Measured, name: string) => m.expectations.find((e) => e.name === name)?.value;

describe.skipIf(!addonBuilt())(`the measurement's fast way against its reference way${addonMissingNote()}`, () => {
  it('64 channels with the probe on native receivers; then with returned samples changed', () => {
    const r = record(benchShape());
    expect(measuring(r).every(Boolean)).toBe(true);
    const m = bothWays(r);
    expect(m.figures['audio.comparedSamples']).toBeGreaterThan(64 * 48_000 / 2);
    expect(m.figures['latency.windows']).toBeGreaterThan(0);
    expect(value(m, 'audio.mismatched')).toBe(0);
    // Change bytes of the native recordings themselves (the fast way reads them in place,
    // the reference way from blocks copied out): the counts must follow.
    let changed = 0;
    for (const x of r.receivers.filter((y) => y.measures)) {
      const receiver = x.receiver as NativeAes67Receiver;
      const v = receiver.recording();
      const ch = v.stream.channels;
      // A run of frames of one channel, every 7th frame of another, and a few single samples.
      const frames = [
        ...Array.from({ length: Math.floor(0.3 * v.lastFrameEnd) }, (_, i) => [Math.floor(0.3 * v.lastFrameEnd) + i, changed % ch]),
        ...Array.from({ length: Math.floor(v.lastFrameEnd / 7) }, (_, i) => [7 * i, (changed + 3) % ch]),
        ...[0.2, 0.5, 0.8].map((at, i) => [Math.floor(at * v.lastFrameEnd), (changed + 5 + i) % ch]),
      ];
      for (const [frame, k] of frames) if (receiver.alterRecording(frame, k * 3 + (frame % 3), 0x11)) changed++;
    }
    expect(changed).toBeGreaterThan(8 * 10_000);
    const bad = bothWays(r);
    expect(value(bad, 'audio.mismatched')).toBeGreaterThan(0);
    expect(bad.figures['audio.mismatches']).toMatch(/channel \d+: \d+ of \d+ samples/);
  });

  it('losses and late packets as gaps, heard as glitches in the sine', () => {
    const loss = bothWays(record(scenario('impairments/loss-1pct.yaml')));
    expect(loss.glitches.length).toBeGreaterThan(10);
    expect(loss.figures['glitches.expectedGaps']).toBeGreaterThan(10);
    expect(loss.figures['ledger.glitchesHeard']).toBeGreaterThan(10);
    const late = bothWays(record(scenario('impairments/jitter-beyond-buffer.yaml')));
    expect(late.glitches.length).toBeGreaterThan(0);
    expect(late.figures['ledger.glitchesHeard']).toBeGreaterThan(0);
  });

  it('L16, L24 quantised to L16, L32 and L16 returned in L32', () => {
    const l16 = bothWays(record(scenario('l16-125us-8ch.yaml')));
    expect(value(l16, 'audio.mismatched')).toBe(0);
    const routing = bothWays(record(scenario('loopback-routing.yaml')));
    expect(value(routing, 'audio.mismatched')).toBe(0);
    const enc = bothWays(record(encodings()));
    expect(value(enc, 'audio.mismatched')).toBe(0);
    expect(enc.figures['audio.comparedSamples']).toBeGreaterThan(0);
  });

  it('TypeScript receivers (a grandmaster failover: no linear timescale for the native ones)', () => {
    const r = record(scenario('impairments/gm-failover.yaml'));
    expect(measuring(r).some((native) => !native)).toBe(true);
    bothWays(r);
  });
});
