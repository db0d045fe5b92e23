// The HIL runner end to end, as CI would run it against gear, with the software DUT as the
// gear: two namespaces joined by veth (the lab's, the DUT's), build/driver/host/aes67-dut
// in the DUT's with its control endpoint on a Unix socket, a rig file naming them, and
// `ci/hil/run --rig ... scenarios/hil/loopback-2x2.yaml` as a child process. Checked:
// - a good rig passes: exit 0, every expectation in report.json passes (judged by the
//   lab's own receivers and analysis, not the DUT's word), index.html and junit.xml are
//   written, and tshark (an independent dissector) reads the runner's pcapng and finds
//   RTP from the DUT's address on both of its transmit groups, with no malformed packet;
//   the PTP figures keep the DUT's clock apart from the runner's timing: ptp.lockTime is
//   the DUT's own acquisition as its status says it (read again here), within the
//   runner's wall time from its grandmaster's start to the first locked poll (the DUT,
//   started before, has no Sync of it before that start), and the lock losses and
//   steps over the measured span are the DUT's counters' change, judged and shown in index.html;
// - a rig whose loopback map is wrong (inputs 1 and 2 swapped; the DUT is wired 1:1)
//   fails: exit 1, audio.mismatched fails (the runner checks the wiring by ear);
// - a rig whose DUT is not running is an error naming the control endpoint, exit 1;
// - a virtual-only scenario, a bad rig file and a bad --fifo are refused before anything starts, exit 2,
//   naming the key / file:line and the fix.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns } from '../netns.ts';
import { missingForDut } from '../../lab/dut/test-support.ts';
import { REAL_TIME_METRICS, RUNNER_EXPECTATIONS } from '../../lab/hil/plan.ts';
import { createTestRig, runHil, RUNNER_FIFO, type TestRig } from '../../lab/hil/test-rig.ts';
import type { Report } from '../../lab/report/schema.ts';

const usable = canUseNetns();
const missing = usable.ok ? missingForDut(['tshark']) : usable.reason;
const SUBNET = 160;
/** The software DUT's link offset here: 100 ms covers a busy 2-core CI host's stalls of the lab's Node event loop (lab.pacing judges them). */
const LINK_OFFSET_FRAMES = 4800;
const SCENARIO = 'scenarios/hil/loopback-2x2.yaml';

const readReport = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report;
const failures = (r: Report) => r.scenarios.flatMap((s) => [...(s.error ? [`error: ${s.error}`] : []), ...s.expectations.filter((e) => e.verdict !== 'pass').map((e) => `${e.verdict} ${e.name} = ${String(e.value)} ${e.unit} (${JSON.stringify(e.limit)})${e.message ? `: ${e.message}` : ''}`)]);

describe.skipIf(missing !== undefined)(`ci/hil/run against the software DUT over veth (${missing ?? 'root, tshark, aes67-dut built'})`, () => {
  let rig: TestRig;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67h-'));
  beforeAll(async () => {
    rig = createTestRig('a67h', SUBNET, dir);
    await rig.startDut({ linkOffsetFrames: LINK_OFFSET_FRAMES });
  });
  afterAll(async () => {
    await rig?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a good rig passes; the pcapng holds the DUT\'s streams as tshark reads them', async () => {
    const out = path.join(dir, 'good');
    const r = await runHil(['--rig', rig.writeRig('good'), SCENARIO, '-o', out], 150_000, RUNNER_FIFO);
    // Namespaces another process deleted by name (the runner enters the lab's by name): say so first.
    expect(rig.replaced(), `${r.stdout}\n${r.stderr}`).toBeUndefined();
    expect(existsSync(path.join(out, 'report.json')), `${r.stdout}\n${r.stderr}`).toBe(true);
    const report = readReport(out);
    const s = report.scenarios[0];
    console.log(`hil good run: exit ${r.code}, ${s.verdict}, wall ${s.wallTimeS?.toFixed(1)} s; ${s.expectations.map((e) => `${e.name}=${String(e.value)}`).join(', ')}; lab pacing ${String(s.figures['lab.pacing'] ?? s.expectations.find((e) => e.name === 'lab.pacing')?.value)} ms`);
    expect(failures(report), r.stdout).toEqual([]);
    expect(r.code).toBe(0);
    expect(s.clock).toBe('real');
    expect(s.expectations.map((e) => e.name)).toEqual(expect.arrayContaining(['glitches.count', 'audio.mismatched', 'latency.spread', 'rtp.device.late', 'ptp.lockTime', 'dut.rssGrowth', 'lab.pacing', 'ptp.lockLosses', 'ptp.stepsInSpan']));
    // Every expectation judged is one plan.ts documents (the scenario's, or the runner's own).
    for (const e of s.expectations) expect(REAL_TIME_METRICS.has(e.name) || RUNNER_EXPECTATIONS.has(e.name), e.name).toBe(true);

    // PTP: the DUT's own figures, apart from the runner's wall time.
    const f = s.figures;
    const dutNow = await rig.dut!.client.status();
    const fig = (k: string) => {
      expect(typeof f[k], `${k} = ${String(f[k])}`).toBe('number');
      return f[k] as number;
    };
    console.log(`hil good run PTP: ${Object.entries(f).filter(([k]) => k.startsWith('ptp.')).map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
    const lockTime = s.expectations.find((e) => e.name === 'ptp.lockTime')!;
    // The DUT did not lock again since (no loss over the span): the acquisition it reports now is the one judged.
    expect(dutNow.ptp.counters?.locks, 'the DUT locked once, during the run').toBe(1);
    expect(lockTime.value as number).toBeCloseTo(dutNow.ptp.lastAcquisitionS! * 1000, 0);
    expect(fig('ptp.lockTimeMs')).toBe(lockTime.value);
    expect(f['ptp.dut.lockedDuringRun']).toBe(true);
    expect(fig('ptp.dut.lastAcquisitionMs')).toBeGreaterThan(0);
    expect(fig('ptp.dut.lastAcquisitionMs')).toBeLessThanOrEqual(fig('ptp.lockSeenFromGrandmasterStartMs'));
    expect(fig('ptp.lockSeenFromGrandmasterStartMs')).toBeLessThanOrEqual(fig('ptp.lockSeenFromRunnerStartMs'));
    // Its first lock counts from its own start, before the runner's grandmaster existed.
    expect(fig('ptp.dut.firstLockMs')).toBeGreaterThanOrEqual(fig('ptp.dut.lastAcquisitionMs'));
    for (const k of ['lockLosses', 'steps', 'locks', 'grandmasterChanges']) expect(fig(`ptp.span.${k}`), k).toBeGreaterThanOrEqual(0);
    expect(s.expectations.find((e) => e.name === 'ptp.lockLosses')!.value).toBe(f['ptp.span.lockLosses']);
    expect(s.expectations.find((e) => e.name === 'ptp.stepsInSpan')!.value).toBe(f['ptp.span.steps']);
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    for (const k of ['ptp.dut.lastAcquisitionMs', 'ptp.lockSeenFromGrandmasterStartMs', 'ptp.lockLosses', 'ptp.stepsInSpan']) expect(html, k).toContain(k);
    expect(Number(s.figures['audio.comparedSamples'])).toBeGreaterThan(4 * 48_000 * 5);
    expect(existsSync(path.join(out, 'index.html')) && existsSync(path.join(out, 'junit.xml'))).toBe(true);

    // tshark: RTP from the DUT on both transmit groups, nothing malformed.
    const pcap = path.join(out, `${s.name}.pcapng`);
    const fields = execFileSync('tshark', ['-r', pcap, '-d', 'udp.port==5004,rtp', '-Y', `ip.src==${rig.dutAddress} && rtp`, '-T', 'fields', '-e', 'ip.dst', '-e', 'rtp.ssrc'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const groups = new Set(fields.trim().split('\n').map((l) => l.split('\t')[0]));
    expect([...groups].sort()).toEqual([`239.69.${SUBNET}.101`, `239.69.${SUBNET}.102`]);
    const malformed = execFileSync('tshark', ['-r', pcap, '-d', 'udp.port==5004,rtp', '-Y', '_ws.malformed || _ws.expert.severity == error'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(malformed.trim()).toBe('');
  }, 180_000);

  it('a wrong loopback map in the rig fails: the runner checks the wiring by what comes back', async () => {
    const out = path.join(dir, 'swapped');
    const r = await runHil(['--rig', rig.writeRig('swapped', { loopback: { 1: 2, 2: 1, 3: 3, 4: 4 } }), SCENARIO, '-o', out], 150_000, RUNNER_FIFO);
    expect(rig.replaced(), `${r.stdout}\n${r.stderr}`).toBeUndefined();
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    const s = readReport(out).scenarios[0];
    const summary = `${r.stdout}\n${s.expectations.map((e) => `${e.name}=${String(e.value)} ${e.verdict}`).join(', ')}`;
    expect(s.verdict, summary).not.toBe('pass');
    const mismatched = s.expectations.find((e) => e.name === 'audio.mismatched');
    const confidence = s.expectations.find((e) => e.name === 'latency.confidence');
    // The probe is looked for where the map says it comes back (output 1) and is not there.
    expect(confidence?.verdict, summary).not.toBe('pass');
    expect(mismatched?.verdict === 'fail' || mismatched?.verdict === 'error', summary).toBe(true);
  }, 180_000);

  it('a DUT that is not running is an error naming its control endpoint, not a pass', async () => {
    const out = path.join(dir, 'absent');
    const r = await runHil(['--rig', rig.writeRig('absent', { dut: { kind: 'software-dut', address: rig.dutAddress, control: `unix:${path.join(dir, 'nobody.sock')}` } }), SCENARIO, '-o', out], 60_000);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    const s = readReport(out).scenarios[0];
    expect(s.verdict).toBe('error');
    expect(s.error).toMatch(/control endpoint unix:.*nobody\.sock does not answer .*is the DUT running/);
  }, 90_000);

  it('refuses a virtual-only scenario and a bad rig file before anything starts (exit 2)', async () => {
    const virtualOnly = await runHil(['--rig', rig.writeRig('v'), 'scenarios/impairments/loss-1pct.yaml', '-o', path.join(dir, 'v')], 60_000);
    expect(virtualOnly.code).toBe(2);
    expect(virtualOnly.stderr).toMatch(/loss-1pct\.yaml: cannot run in real time on the rig:\n.*network\.select\.traffic: on a real link the impairment relay carries the lab senders' media only/);
    const bad = path.join(dir, 'bad.rig.yaml');
    const text = readFileSync(rig.writeRig('base'), 'utf8');
    const line = text.split('\n').findIndex((l) => l.startsWith('capture:')) + 1;
    writeFileSync(bad, text.replace('capture:', 'captur:'));
    const r = await runHil(['--rig', bad, SCENARIO], 60_000);
    expect(r.code).toBe(2);
    // The position is the unknown key's value (lab/scenario/yaml-source.ts): the line after `captur:` here.
    expect(r.stderr).toMatch(new RegExp(`bad\\.rig\\.yaml:${line + 1}:\\d+: unknown key 'captur' \\(check the spelling`));
    writeFileSync(bad, text.replace(/^loopback:/m, 'wiring:'));
    const missingMap = await runHil(['--rig', bad, SCENARIO], 60_000);
    expect(missingMap.code).toBe(2);
    expect(missingMap.stderr).toMatch(/loopback: is missing: say how the DUT is wired, input -> output/);
    expect(existsSync(path.join(dir, 'v', 'report.json'))).toBe(false);
    const badFifo = await runHil(['--rig', rig.writeRig('base'), SCENARIO, '--fifo', '99'], 60_000);
    expect(badFifo.code).toBe(2);
    expect(badFifo.stderr).toMatch(/--fifo 99: give a SCHED_FIFO priority 1-98/);
  }, 120_000);
});
