// Crossing: linuxptp's ptp4l as grandmaster in namespace A, `aes67-lab ptp follow` (the
// engine's slave) in namespace B, and a second ptp4l as a free-running slave in namespace C
// as the baseline measured over the same bridge at the same time. Every namespace reads
// the one system clock, so the true offset is zero: what the engine reports is its
// measurement, and PTP time minus CLOCK_REALTIME (systemClockOffset) is its true error.
// Nothing here disciplines the clock: the grandmaster only reads it, the baseline slave
// runs with free_running 1, and our slave keeps its own mapping.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { projectRoot } from '../../native/index.ts';
import type { FollowSummary } from './ptp-follow.ts';

const usable = canUseNetns();
const FOLLOW_SECONDS = 40;

function which(cmd: string): boolean {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
}
const havePtp4l = usable.ok && which('ptp4l') && which('pmc');

/** Collects a child's output and resolves when a line matches (or rejects on exit / time-out). */
function watch(child: ChildProcess) {
  let text = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of [...waiters]) {
      const m = text.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    get text() {
      return text;
    },
    waitFor(re: RegExp, ms: number): Promise<RegExpMatchArray> {
      const m = text.match(re);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; output:\n${text}`)), ms);
        waiters.push({ re, resolve: (x) => (clearTimeout(timer), resolve(x)) });
      });
    },
  };
}

const rms = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length);

describe.skipIf(!havePtp4l)(`ptp4l grandmaster -> engine slave (${usable.reason ?? 'root, ptp4l'})`, () => {
  let net: Netns | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67p-'));
  afterAll(() => {
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('locks to ptp4l, names its identity as ptp4l and pmc do, within the software-timestamp targets', async () => {
    // AES67 media profile intervals; each ptp4l its own UDS socket (one file system).
    const profile = ['time_stamping software', 'logAnnounceInterval 1', 'logSyncInterval -3', 'logMinDelayReqInterval -3', 'domainNumber 0'];
    const gmConf = path.join(dir, 'gm.cfg');
    const refConf = path.join(dir, 'ref.cfg');
    writeFileSync(gmConf, ['[global]', ...profile, 'priority1 128', `uds_address ${path.join(dir, 'gm.sock')}`, ''].join('\n'));
    // summary_interval -3: report every measurement rather than a per-second summary.
    writeFileSync(refConf, ['[global]', ...profile, 'slaveOnly 1', 'free_running 1', 'summary_interval -3', `uds_address ${path.join(dir, 'ref.sock')}`, ''].join('\n'));
    net = createNetns({ prefix: 'a67pf', hosts: ['gm', 'sl', 'ref'], subnet: 112 });

    const gm = watch(net.spawn('gm', 'ptp4l', ['-i', 'eth0', '-m', '-S', '-f', gmConf]));
    const selected = await gm.waitFor(/selected local clock (\S+) as best master/, 30_000);
    await gm.waitFor(/assuming the grand master role/, 30_000);
    const gmIdentity = selected[1];
    const ref = watch(net.spawn('ref', 'ptp4l', ['-i', 'eth0', '-m', '-S', '-f', refConf]));

    const follower = net.spawn('sl', process.execPath, ['--import', 'tsx', path.join(projectRoot, 'lab/cli/bin.ts'), 'ptp', 'follow',
      '--interface', 'eth0', '--seconds', String(FOLLOW_SECONDS), '--json'], { cwd: projectRoot });
    const out = watch(follower);
    const code = await new Promise<number | null>((resolve) => follower.on('exit', resolve));
    expect(code, out.text).toBe(0);
    const summary = JSON.parse(out.text.slice(out.text.indexOf('{'))) as FollowSummary;

    // The identity three ways: ptp4l's log, pmc's DEFAULT_DATA_SET, our slave.
    const pmc = net.exec('gm', 'pmc', ['-u', '-s', path.join(dir, 'gm.sock'), '-b', '0', 'GET DEFAULT_DATA_SET'], 10_000);
    const pmcIdentity = pmc.match(/clockIdentity\s+(\S+)/)?.[1];
    expect(pmcIdentity).toBe(gmIdentity);
    expect(summary.grandmaster).toBe(gmIdentity);
    expect(summary.locked).toBe(true);
    expect(summary.portState).toBe('SLAVE');

    // The baseline: ptp4l's own raw measurement over the same path (free running: its
    // offsets are its measurement error, the clock being the same).
    const refOffsets = [...ref.text.matchAll(/master offset\s+(-?\d+)/g)].map((m) => Number(m[1]));
    const refDelays = [...ref.text.matchAll(/path delay\s+(-?\d+)/g)].map((m) => Number(m[1]));
    const refSelected = ref.text.match(/selected best master clock (\S+)/)?.[1];
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
