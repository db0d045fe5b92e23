// The runner's fast way (recordScenario without `reference`) must measure exactly what its
// straightforward way measures (`reference: true`): the device's stamps folded in C++
// (native/src/device_stamp_fold.cc) against DeviceLog's TypeScript fold of the same stamps
// handed over; the PTP slave's six-number brief against its full status read every slice;
// the playout fill read alone against the counters; the device polled only when due, when
// its host got datagrams, after a change or while a TX packet waits for audio, against
// polled at every step; its TX streams' next due times kept while nothing they depend on
// changed, against recomputed at every poll; the run carried on from slice to slice,
// against every actor polled again where each slice starts. Each scenario runs both ways
// and everything the run hands to measurement is compared whole: the measurement itself
// (expectations, figures, every series), the device log (gaps, refused and duplicate
// packets, transit sums, the drift regression, cycle spans), the PTP samples' tally and
// series, the fill series, the device's counters (waitingForAudio counts polls: the
// host-stall scenario checks it), its events, the network's counters. The scenarios cover
// both closed-form device time lines (a linear PTP network; the stand-in clock with and
// without drift), the TypeScript fold where neither applies (a grandmaster failover, a PTP
// step), the device log's every branch (losses as gaps, late packets as refused,
// duplicates, reordering filling gaps), and the changes made to the device mid-run (RTSP
// descriptions handed over, SAP sessions followed).
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { addonBuilt, projectRoot } from '../../native/index.ts';
import { loadScenario } from './load.ts';
import { measureScenario } from './measure.ts';
import { recordScenario } from './runner.ts';
import { scenarioSchema } from './schema.ts';
import { parseYamlWith } from './yaml-source.ts';

const scenario = (name: string) => loadScenario(path.join(projectRoot, 'scenarios', name));

/** bench/virtual-speed.ts's scenario, shorter: 8 senders x 8 channels through the device with PTP. */
function benchShape() {
  const senders = Array.from({ length: 8 }, (_, i) => `  - { name: s${i + 1}, kind: aes67, channels: 8${i === 7 ? ', probe: { channel: 8 }' : ''} }`).join('\n');
  const yaml = `name: bench-shape
description: bench/virtual-speed.ts's scenario, 7 s
proves: the fast bookkeeping measures what the reference one does
duration: 7s
grandmasters: [{ name: gm }]
senders:
${senders}
device: { inputs: 64, outputs: 64, buffer: 64, linkOffset: 2ms }
expect:
  rtp.device.lost: { equals: 0 }
`;
  const file = 'lab/scenario/fast-bookkeeping.test.ts';
  return { file, scenario: parseYamlWith(file, yaml, scenarioSchema) };
}

type Loaded = ReturnType<typeof benchShape>;

/** Everything a run hands to measurement, and the measurement. */
function snapshot(loaded: Loaded, reference: boolean) {
  const r = recordScenario(loaded, loaded.scenario.seed, undefined, undefined, undefined, { reference });
  const measured = measureScenario(r);
  const { receive, sentPackets, cycles, inputSpan, outputSpan, cycleFrames } = r.log;
  const log = { receive, sentPackets, cycles, inputSpan, outputSpan, cycleFrames };
  return {
    stampFold: r.stampFold,
    compared: {
      measured,
      log,
      slopes: r.log.receive.map((_, i) => r.log.transitSlopePpm(i)),
      ptp: r.ptp && { tally: { ...r.ptp.tally }, followed: r.ptp.followed, firstLock: r.ptp.firstLock, status: r.ptp.status, series: r.ptp.series() },
      fill: r.fill.map((f) => f.series('fill', 'frames')),
      counters: r.counters,
      network: r.world.network.stats(),
      events: r.deviceEvents,
    },
  };
}

function sameBothWays(loaded: Loaded) {
  const ref = snapshot(loaded, true);
  const fast = snapshot(loaded, false);
  expect(ref.stampFold).toBe('typescript');
  // Compared part by part so a difference names its part.
  for (const k of Object.keys(ref.compared) as (keyof typeof ref.compared)[]) {
    if (!isDeepStrictEqual(fast.compared[k], ref.compared[k])) expect({ [k]: fast.compared[k] }).toEqual({ [k]: ref.compared[k] });
  }
  return { ref, fast };
}

describe.skipIf(!addonBuilt())("the runner's fast way against its reference way", () => {
  it('the bench scenario (linear PTP network: stamps folded in C++, the PTP brief)', () => {
    const { fast } = sameBothWays(benchShape());
    expect(fast.stampFold).toBe('native');
    expect(fast.compared.log.cycles).toBeGreaterThan(1000);
    expect(fast.compared.log.receive.every((r) => r.transitCount > 1000)).toBe(true);
    expect(fast.compared.ptp!.followed.length).toBe(1);
  });

  it('losses as gaps on the stand-in clock', () => {
    const { fast } = sameBothWays(scenario('impairments/loss-1pct.yaml'));
    expect(fast.stampFold).toBe('native');
    expect(fast.compared.log.receive[0].gaps.length).toBeGreaterThan(10);
  });

  it('late packets refused, duplicates and reordering', () => {
    const late = sameBothWays(scenario('impairments/jitter-beyond-buffer.yaml')).fast;
    expect(late.stampFold).toBe('native');
    expect(late.compared.log.receive[0].refused.length).toBeGreaterThan(0);
    const dup = sameBothWays(scenario('impairments/reorder-duplicate.yaml')).fast;
    expect(dup.compared.log.receive[0].duplicates).toBeGreaterThan(0);
  });

  it('a device clock drifting against PTP (the stand-in at 50 ppm)', () => {
    const { fast } = sameBothWays(scenario('device-drift.yaml'));
    expect(fast.stampFold).toBe('native');
    expect(fast.compared.slopes[0]).not.toBeNull();
  });

  it('a grandmaster failover and a PTP step (the TypeScript fold; the brief follows the new grandmaster)', () => {
    const failover = sameBothWays(scenario('impairments/gm-failover.yaml')).fast;
    expect(failover.stampFold).toBe('typescript');
    expect(failover.compared.ptp!.followed.length).toBeGreaterThanOrEqual(2);
    expect(sameBothWays(scenario('impairments/ptp-step.yaml')).fast.stampFold).toBe('typescript');
  });

  it('a host that stalls its IO cycles (TX packets wait for audio, counted at every poll)', () => {
    const { fast } = sameBothWays(scenario('field/01-late-into-dante-host-stall.yaml'));
    expect(fast.compared.counters.transmitters[0].waitingForAudio).toBeGreaterThan(0);
  });

  it('streams handed over mid-run: RTSP descriptions, SAP sessions followed', () => {
    const rtsp = sameBothWays(scenario('ravenna-rtsp-125us.yaml')).fast;
    expect(rtsp.compared.events.some((e) => /description/.test(e.what))).toBe(true);
    const sap = sameBothWays(scenario('dante-8ch-sap.yaml')).fast;
    expect(sap.compared.events.some((e) => /follows SAP session/.test(e.what))).toBe(true);
  });
});
