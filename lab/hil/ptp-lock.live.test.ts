// The HIL runner's PTP figures (ptp-lock.ts) read from the real software DUT's status while
// linuxptp's ptp4l (an independent grandmaster: software stamps, master only, free running)
// comes and goes on a veth link the test makes. Nothing expected is typed in: every bound
// comes from the test's own wall clock around what it did.
// - The DUT runs with no grandmaster for a while, then ptp4l starts: the DUT's own
//   acquisition (ptp.lastAcquisitionS) is at most the test's wall time from ptp4l's start to
//   the first locked poll (it counts from the DUT's first Sync sample of ptp4l, after ptp4l's start),
//   while its first lock since its start (ptp.lockTimeS) also holds the time it waited with
//   no grandmaster: at least the acquisition plus the DUT-ready-to-ptp4l-start gap.
// - ptp4l stops: the lock losses (and locks) the runner counts over that span equal the
//   locked <-> unlocked changes the test's polls (every 50 ms) saw, and the relock to the
//   same time takes no step. ptp4l starts again: the relock is counted as
//   one during the wait, its acquisition is bounded by the second start as the first was,
//   and the first-lock figure does not move.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess, type DutStatusJson } from '../dut/dut-client.ts';
import { missingForDut, sleep } from '../dut/test-support.ts';
import { dutLockOf, ptpCounterDeltas } from './ptp-lock.ts';

const usable = canUseNetns();
const missing = usable.ok ? missingForDut(['ptp4l']) : usable.reason;
const SUBNET = 181;
/** The DUT alone on the link before ptp4l starts: long enough to tell apart from an acquisition's spread. */
const IDLE_MS = 4_000;
const POLL_MS = 50;
/** Longest wait for a lock, and for a loss after ptp4l stops (ptp4l announces every 2 s; a 3-interval timeout is 6 s). */
const WAIT_MS = 30_000;
/**
 * Locked this long before ptp4l stops. The holdover runs at the rate fitted from the Syncs
 * since the lock's step (engine/ptp/master_rate_fit.hpp); with white stamp noise that rate's
 * error falls as the fitted span^-1.5: 8 s (an ~11 s span, was 2 s) held over 0.35-423 ppb
 * off in 5 runs, at most 5.5 us over the ~13 s until ptp4l is back. The rest of a relock's
 * step was the acquisition's 1 s fit on noisy stamps (-20.1 and -21.8 us in 2 CI rehearsals
 * of 13, whose first acquisitions took 6.0 and 4.0 s, not ~3; the holdover's share ~4.6 us):
 * the servo now steps a fit's residual only beyond the unlock threshold plus 3 of the fit's
 * standard errors (engine/ptp/ptp_servo.cpp), and the test prints that fit (residual, the
 * delay correction's share, standard error) with the stamp noise.
 */
const LOCKED_BEFORE_STOP_MS = 8_000;

describe.skipIf(missing !== undefined)(`HIL PTP figures from the software DUT's status against ptp4l (${missing ?? 'root, ptp4l, aes67-dut built'})`, () => {
  let net: Netns | undefined;
  let dut: DutProcess | undefined;
  let gm: ChildProcess | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67hl-'));
  afterAll(async () => {
    gm?.kill('SIGKILL');
    await dut?.stop(2_000);
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const gmConf = path.join(dir, 'gm.cfg');
  writeFileSync(gmConf, ['[global]', 'time_stamping software', 'logAnnounceInterval 1', 'logSyncInterval -3', 'logMinDelayReqInterval -3', 'domainNumber 0', 'masterOnly 1', 'free_running 1', `uds_address ${path.join(dir, 'gm.sock')}`, ''].join('\n'));
  /** Starts ptp4l; resolves with the wall time (ms) just before it was spawned. */
  const startGm = () => {
    const at = performance.now();
    gm = net!.spawn('gm', 'ptp4l', ['-i', 'eth0', '-m', '-S', '-f', gmConf]);
    collect(gm);
    return at;
  };
  const stopGm = async () => {
    const g = gm!;
    const exited = new Promise((r) => g.once('exit', r));
    g.kill('SIGTERM');
    await Promise.race([exited, sleep(3_000)]);
    g.kill('SIGKILL');
  };
  /** Polls until `done` says so (bounded by WAIT_MS); returns the status and the wall time its request was sent. */
  const pollUntil = async (done: (s: DutStatusJson) => boolean, onPoll?: (s: DutStatusJson) => void) => {
    const until = performance.now() + WAIT_MS;
    while (performance.now() < until) {
      const sent = performance.now();
      const st = await dut!.client.status();
      onPoll?.(st);
      if (done(st)) return { st, sent, seen: performance.now() };
      await sleep(POLL_MS);
    }
    throw new Error(`the DUT's status did not change as awaited within ${WAIT_MS} ms`);
  };

  it('the DUT\'s own acquisition leaves out the time with no grandmaster; lock losses over a span are the transitions seen', async () => {
    net = createNetns({ prefix: 'a67hl', hosts: ['gm', 'dut'], subnet: SUBNET });
    const config = {
      interface: 'eth0',
      device: { inputChannels: 2, outputChannels: 2, ioBufferFrames: 64, linkOffsetFrames: 96 },
      ptp: { domain: 0 },
      sap: { announce: false },
      control: { listen: `unix:${path.join(dir, 'dut.sock')}` },
    };
    const file = path.join(dir, 'dut.json');
    writeFileSync(file, JSON.stringify(config));
    dut = await attachDut(net.spawn('dut', DUT_BINARY, ['--config', file]));
    // Its slave runs from before it printed its control address.
    const dutReady = performance.now();
    const atRunStart = await dut.client.status();
    await sleep(IDLE_MS);
    const idle = await dut.client.status();
    expect(idle.ptp.enabled).toBe(true);
    expect(idle.ptp.locked, 'no grandmaster on the link yet').toBe(false);
    expect(idle.ptp.lockTimeS).toBeNull();
    expect(idle.ptp.lastAcquisitionS).toBeNull();

    // ---- first lock ----
    const gmAt = startGm();
    const first = await pollUntil((s) => s.ptp.locked === true);
    const lock = dutLockOf(atRunStart.ptp, first.st.ptp);
    const seenAfterGmMs = first.seen - gmAt;
    console.log(`DUT on ptp4l: acquisition ${JSON.stringify(lock.acquisitionMs)} ms, first lock ${lock.firstLockMs} ms from its start, seen locked ${seenAfterGmMs.toFixed(0)} ms after ptp4l's start, ${(gmAt - dutReady).toFixed(0)} ms idle before`);
    expect(typeof lock.acquisitionMs).toBe('number');
    const acquisition = lock.acquisitionMs as number;
    expect(lock.lockedDuringRun).toBe(true);
    expect(lock.locksWhileWaiting).toBe(1);
    expect(acquisition).toBeGreaterThan(0);
    // The DUT heard ptp4l only after it started, and locked before the poll that saw it (0.1 ms: the status rounds to 1 us).
    expect(acquisition).toBeLessThanOrEqual(seenAfterGmMs + 0.1);
    expect(lock.firstLockMs).toBeDefined();
    expect(lock.firstLockMs!).toBeGreaterThanOrEqual(acquisition + (gmAt - dutReady) - 0.1);

    // ---- a span with a lock loss in it ----
    await sleep(LOCKED_BEFORE_STOP_MS);
    const spanStart = await dut.client.status();
    expect(spanStart.ptp.locked).toBe(true);
    let seenLosses = 0;
    let seenLocks = 0;
    let wasLocked = true;
    const watch = (s: DutStatusJson) => {
      if (wasLocked && !s.ptp.locked) seenLosses++;
      if (!wasLocked && s.ptp.locked) seenLocks++;
      wasLocked = s.ptp.locked === true;
    };
    await stopGm();
    await pollUntil((s) => s.ptp.locked === false, watch);
    const beforeRelock = await dut.client.status();
    watch(beforeRelock);
    const gm2At = startGm();
    const relock = await pollUntil((s) => s.ptp.locked === true, watch);
    const spanEnd = await dut.client.status();
    watch(spanEnd);
    const span = ptpCounterDeltas(spanStart.ptp, spanEnd.ptp);
    // One system clock under ptp4l and the DUT: the true rate between them is 0, so the
    // holdover's frequency is its error.
    const fittedHoldovers = (spanEnd.ptp.counters?.holdoversOnFittedRate ?? 0) - (spanStart.ptp.counters?.holdoversOnFittedRate ?? 0);
    console.log(`span over ptp4l's stop and restart: ${JSON.stringify(span.deltas)} (last step ${spanEnd.ptp.counters?.lastStepNs} ns); the test's polls saw ${seenLosses} loss(es), ${seenLocks} lock(s); held over at ${beforeRelock.ptp.clockFrequencyPpb} ppb (${fittedHoldovers} holdover(s) on the fitted rate); at the relock the servo measured ${relock.st.ptp.measurementNoiseNs} ns of stamp noise (lock window ${relock.st.ptp.lockWindowNs} ns), its acquisition fit left ${JSON.stringify(relock.st.ptp.acquisitionFit)}`);
    expect(fittedHoldovers, 'the holdover ran at the rate the Syncs measured, not at the servo\'s integral').toBeGreaterThanOrEqual(1);
    expect(span.missing).toEqual({});
    expect(seenLosses).toBeGreaterThanOrEqual(1);
    expect(span.deltas.lockLosses).toBe(seenLosses);
    // ptp4l came back on the same time (the one system clock): the DUT held over at the rate
    // its Syncs measured (engine/ptp/master_rate_fit.hpp) and relocked without a step. Held
    // at the servo's integral it drifted 9-27 us over the ~10 s of silence and stepped on 1
    // relock in 3.
    expect(span.deltas.steps, `the relock stepped by ${spanEnd.ptp.counters?.lastStepNs} ns (acquisition fit ${JSON.stringify(spanEnd.ptp.acquisitionFit)})`).toBe(0);
    expect(span.deltas.locks).toBe(seenLocks);

    const again = dutLockOf(beforeRelock.ptp, relock.st.ptp);
    console.log(`relock: acquisition ${JSON.stringify(again.acquisitionMs)} ms, seen ${(relock.seen - gm2At).toFixed(0)} ms after ptp4l's restart`);
    expect(again.lockedDuringRun).toBe(true);
    expect(again.locksWhileWaiting).toBe(1);
    expect(again.acquisitionMs as number).toBeLessThanOrEqual(relock.seen - gm2At + 0.1);
    // The first lock is history: the relock does not move it.
    expect(again.firstLockMs).toBe(lock.firstLockMs);

    // A DUT already locked when a run starts: no lock during the run, the old acquisition reported.
    const later = dutLockOf(spanEnd.ptp, (await pollUntil((s) => s.ptp.locked === true)).st.ptp);
    expect(later.lockedDuringRun).toBe(false);
    expect(later.acquisitionMs).toBe(again.acquisitionMs);
  }, 120_000);
});
