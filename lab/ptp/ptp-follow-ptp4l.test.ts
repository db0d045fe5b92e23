// Crossing: linuxptp's ptp4l as grandmaster in namespace A, `aes67-lab ptp follow` (the
// engine's slave) in namespace B, and a second ptp4l as a free-running slave in namespace C
// as the baseline measured over the same bridge at the same time. Every namespace reads
// the one system clock, so the true offset is zero: what the engine reports is its
// measurement, and PTP time minus CLOCK_REALTIME (systemClockOffset) is its true error.
// Nothing here disciplines the clock: the grandmaster only reads it, the baseline slave
// runs with free_running 1, and our slave keeps its own mapping.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { startFollow } from './lab-ptp-processes.ts';
import { missingTools, pmcGet, ptp4lLocalIdentity, ptp4lOffsets, startPtp4l } from './ptp4l.ts';

const usable = canUseNetns();
const FOLLOW_SECONDS = 40;
const havePtp4l = usable.ok && missingTools(['ptp4l', 'pmc']).length === 0;

const rms = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length);

describe.skipIf(!havePtp4l)(`ptp4l grandmaster -> engine slave (${usable.reason ?? 'root, ptp4l'})`, () => {
  let net: Netns | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67p-'));
  afterAll(() => {
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('locks to ptp4l, names its identity as ptp4l and pmc do, within the software-timestamp targets', async () => {
    net = createNetns({ prefix: 'a67pf', hosts: ['gm', 'sl', 'ref'], subnet: 112 });
    // AES67 media profile, software time stamps, each ptp4l its own UDS socket; the
    // baseline reports every measurement rather than a per-second summary.
    const gm = startPtp4l(net, 'gm', dir, { role: 'bmca', priority1: 128 });
    const gmIdentity = await ptp4lLocalIdentity(gm, 30_000);
    await gm.lines.waitFor(/assuming the grand master role/, 30_000);
    const ref = startPtp4l(net, 'ref', dir, { role: 'slave', everyOffset: true });

    const follower = startFollow(net, 'sl', FOLLOW_SECONDS);
    const { code, summary } = await follower.summary((FOLLOW_SECONDS + 60) * 1000);
    expect(code, follower.lines.lines.slice(-20).join('\n')).toBe(0);

    const story = `engine: ${summary.changes.map((c) => `${c.atS.toFixed(3)} ${c.portState}/${c.servoShort} ${c.grandmaster}`).join(', ')}; ` +
      `counters ${JSON.stringify({ announceTimeouts: summary.counters.announceTimeouts, datagrams: summary.counters.datagrams, messages: summary.counters.messages })}\nptp4l: ${gm.lines.lines.slice(-10).join('\n')}`;
    // The identity three ways: ptp4l's log, pmc's DEFAULT_DATA_SET, our slave.
    expect(pmcGet(net, gm, dir, 'DEFAULT_DATA_SET').clockIdentity).toBe(gmIdentity);
    expect(summary.grandmaster, story).toBe(gmIdentity);
    expect(summary.locked, story).toBe(true);
    expect(summary.portState).toBe('SLAVE');

    // The baseline: ptp4l's own raw measurement over the same path (free running: its
    // offsets are its measurement error, the clock being the same).
    const refRows = ptp4lOffsets(ref.lines.lines);
    const refOffsets = refRows.map((r) => r.offsetNs);
    const refDelays = refRows.map((r) => r.pathDelayNs);
    const refSelected = ref.lines.find(/selected best master clock (\S+)/)?.[1];
    expect(refSelected, 'the baseline ptp4l slave follows the same grandmaster').toBe(gmIdentity);

    const e = summary.systemClockOffset!;
    console.log([
      `ptp4l ${gmIdentity} -> engine slave over veth + bridge, software time stamps, ${summary.durationS.toFixed(1)} s:`,
      `  lock time ${summary.lockTimeS?.toFixed(3)} s (from slave start; ptp4l already master)`,
      `  reported offset while locked: rms ${summary.offsetRmsNs?.toFixed(0)} ns, max ${summary.offsetMaxNs?.toFixed(0)} ns, mean ${summary.offsetMeanNs?.toFixed(0)} ns (${summary.lockedSamples} samples)`,
      `  true error (PTP - CLOCK_REALTIME) while locked: rms ${e.rmsNs.toFixed(0)} ns, max ${e.maxNs.toFixed(0)} ns, mean ${e.meanNs.toFixed(0)} ns (${e.samples} samples)`,
      `  path delay ${summary.pathDelayNs} ns, frequency ${summary.frequencyPpb.toFixed(0)} ppb, lock losses ${summary.counters.lockLosses}, spikes held back ${summary.counters.spikes}`,
      `  baseline ptp4l slave (free running, so its offsets are its measurement error): rms ${refOffsets.length ? rms(refOffsets).toFixed(0) : '-'} ns, max ${refOffsets.length ? Math.max(...refOffsets.map(Math.abs)) : '-'} ns, mean ${refOffsets.length ? (refOffsets.reduce((a, x) => a + x, 0) / refOffsets.length).toFixed(0) : '-'} ns over ${refOffsets.length} reports; path delay ${refDelays.at(-1) ?? '-'} ns`,
    ].join('\n'));

    // Targets on veth with software time stamps (issue 10): lock < 20 s, rms < 5 us. The
    // true error is the engine's; the reported offset also carries the path's own jitter,
    // which the baseline ptp4l sees too on this (shared, loaded) machine.
    expect(summary.lockTimeS).not.toBeNull();
    expect(summary.lockTimeS!).toBeLessThan(20);
    expect(e.rmsNs).toBeLessThan(5_000);
    expect(summary.counters.transmitStampFallbacks, 'kernel transmit stamps arrived').toBe(0);
    expect(summary.counters.delaySamples).toBeGreaterThan(FOLLOW_SECONDS * 4);
  }, 120_000);
});
