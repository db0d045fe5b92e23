// The runner's own promises: a virtual-time run is a function of the scenario and its
// seed (the same report bytes twice, outside the run metadata and wall time); the seed
// matters; the measurements can fail (audio concealed, a click, a shifted sample are all
// caught); and the CLI exits 1 on a failed expectation and 2 on a bad file, naming it.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonBuilt, projectRoot } from '../../native/index.ts';
import { doctor } from '../cli/doctor.ts';
import { withTempDir } from '../net/test-support.ts';
import type { Aes67Receiver } from '../peers/aes67-receiver.ts';
import { loadScenario, loadScenarios } from './load.ts';
import { measureScenario } from './measure.ts';
import { runSuite } from './run-suite.ts';
import { recordScenario } from './runner.ts';

const scenario = (name: string) => path.join(projectRoot, 'scenarios', name);
const fixture = (name: string) => path.join(projectRoot, 'lab', 'scenario', 'test-fixtures', name);

/** report.json without what may differ between two runs of the same seed. */
function stable(file: string): string {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  delete r.run;
  for (const s of r.scenarios) delete s.wallTimeS;
  return JSON.stringify(r, null, 2);
}

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'lab', 'cli', 'bin.ts'), ...args], { encoding: 'utf8', cwd: projectRoot, timeout: 120_000 });
}

describe.skipIf(!addonBuilt())('scenario runner', () => {
  it('writes the same report.json twice for the same seed, and a different one for another seed', async () => {
    // Random loss, RTSP/mDNS discovery, and the engine's PTP slave: every source of state.
    const loaded = loadScenarios([scenario('impairments/loss-1pct.yaml'), scenario('ravenna-rtsp-125us.yaml'), scenario('smoke/ptp-grandmaster.yaml')]);
    const doctorReport = doctor();
    await withTempDir(async (dir) => {
      const a = await runSuite(loaded, { outDir: path.join(dir, 'a'), doctorReport });
      const b = await runSuite(loaded, { outDir: path.join(dir, 'b'), doctorReport });
      const c = await runSuite(loaded, { outDir: path.join(dir, 'c'), doctorReport, seed: 12345 });
      const ta = readFileSync(a.files.json, 'utf8');
      const tb = readFileSync(b.files.json, 'utf8');
      // Byte for byte once the run metadata and the wall times are set aside.
      expect(stable(a.files.json)).toBe(stable(b.files.json));
      expect(ta.replace(/"run": \{[\s\S]*?\n  \},\n/, '').replace(/\s*"wallTimeS": [\d.e+-]+,/g, '')).toBe(tb.replace(/"run": \{[\s\S]*?\n  \},\n/, '').replace(/\s*"wallTimeS": [\d.e+-]+,/g, ''));
      // Something random was really drawn: another seed loses other packets.
      expect(stable(c.files.json)).not.toBe(stable(a.files.json));
      const lost = (f: string) => JSON.parse(readFileSync(f, 'utf8')).scenarios[0].figures['network.droppedByImpairment'];
      expect(lost(a.files.json)).toBeGreaterThan(0);
      expect(lost(c.files.json)).not.toBe(lost(a.files.json));
    });
  });

  it('catches concealment, a click, a shifted sample and audio the device lost itself', () => {
    const loaded = loadScenario(scenario('impairments/loss-1pct.yaml'));
    const record = recordScenario(loaded, loaded.scenario.seed);
    const honest = measureScenario(record);
    const value = (m: ReturnType<typeof measureScenario>, name: string) => m.expectations.find((e) => e.name === name)?.value;
    expect(value(honest, 'glitches.equalsLost')).toBe(true);
    expect(value(honest, 'audio.mismatched')).toBe(0);
    expect(honest.glitches.length).toBeGreaterThan(10);

    const rec = record.receivers.find((x) => x.measures)!.receiver as Aes67Receiver;
    const original = rec.audio()!;
    const tx = record.device.transmit[0];
    const ch = tx.config.channels;
    const first = Number(original.firstSample);
    // The measurement reads the recorded bytes (recording()) where it can: without them it reads audio().
    rec.recording = () => undefined;
    const withAudio = (change: (a: Float32Array) => void) => {
      const copy = Float32Array.from(original.interleaved);
      change(copy);
      rec.audio = () => ({ ...original, interleaved: copy });
      return measureScenario(record);
    };
    // Concealment: the first glitch's samples replaced by what was sent (a device that hid the loss).
    const g = honest.glitches[0];
    const rt = record.device.dut.properties();
    const delay = rt.inputLatencyFrames + rt.inputSafetyOffsetFrames + 2 * rt.ioBufferFrames + rt.outputSafetyOffsetFrames;
    const concealed = withAudio((a) => {
      const o = tx.origins[0]!;
      const sent = o.sender.signals![o.channel].signal.render(g.sample! - 100 - delay, g.lengthSamples + 200, 1);
      for (let i = 0; i < g.lengthSamples + 200; i++) a[(g.sample! - 100 - first + i) * ch] = sent[i];
    });
    expect(value(concealed, 'glitches.equalsLost')).toBe(false);
    expect(concealed.glitches.length).toBe(honest.glitches.length - 1);
    // A click where nothing was lost: unexplained, and not bit-exact.
    const clickAt = first + Math.floor(original.interleaved.length / ch / 2) + 7;
    const clicked = withAudio((a) => (a[(clickAt - first) * ch] += 0.25));
    expect(value(clicked, 'glitches.unexplained')).toBe(1);
    expect(value(clicked, 'glitches.equalsLost')).toBe(false);
    expect(value(clicked, 'audio.mismatched')).toBe(1);
    // Everything one sample late: the latency moves by one and nothing compares.
    const shifted = withAudio((a) => {
      a.copyWithin(ch, 0, a.length - ch);
    });
    expect(value(shifted, 'latency.error')).toBe(1);
    expect(value(shifted, 'audio.mismatched') as number).toBeGreaterThan(100_000);
    // Audio the device lost itself (a gap no drop or lateness explains) is not "lost on the network".
    rec.audio = () => original;
    const rx = record.log.receive[0];
    const m = rx.firstAccepted! + 48 * 1500;
    rx.gaps.push({ from: m, to: m + 48 });
    const selfInflicted = measureScenario(record);
    expect(value(selfInflicted, 'glitches.equalsLost')).toBe(false);
    expect(selfInflicted.figures['glitches.gapsNotFromTheNetwork']).toBe(1);
    rx.gaps.pop();
    expect(value(measureScenario(record), 'glitches.equalsLost')).toBe(true);
  });

  it('exits 1 on an expectation that cannot hold, and the report names it', () => {
    withTempDir((dir) => {
      const r = cli(['run', fixture('fail-on-purpose.yaml'), '-o', dir]);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/fail-on-purpose: fail latency\.roundTrip = 6\.66667 ms \(expected ≤ 1 ms\)/);
      expect(r.stdout).toMatch(/FAIL: the scenario failed|FAIL: 1 of 1 scenario failed/);
      const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8'));
      expect(report.scenarios[0]).toMatchObject({ name: 'fail-on-purpose', verdict: 'fail' });
      expect(report.scenarios[0].expectations.map((e: { name: string; verdict: string }) => [e.name, e.verdict])).toEqual([
        ['latency.roundTrip', 'fail'],
        ['glitches.count', 'pass'],
      ]);
      const junit = readFileSync(path.join(dir, 'junit.xml'), 'utf8');
      expect(junit).toMatch(/<testcase[^>]*name="latency\.roundTrip"[^>]*>\s*<failure/);
      expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toMatch(/fail-on-purpose.*latency\.roundTrip 6\.66667 ms \(≤ 1 ms\)/);
    });
  });

  it('exits 2 on a bad scenario file, naming its line', () => {
    withTempDir((dir) => {
      const bad = path.join(dir, 'bad.yaml');
      writeFileSync(bad, readFileSync(fixture('fail-on-purpose.yaml'), 'utf8').replace('latency.roundTrip: { max: 1ms }', 'latency.roundTrip: { max: 1 }'));
      const r = cli(['run', bad, '-o', path.join(dir, 'out')]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/bad\.yaml:11:\d+: expect\.latency\.roundTrip\.max: latency\.roundTrip is a duration: 1 has no unit, write e\.g\. 1ms/);
      const none = cli(['run', path.join(dir, 'missing.yaml')]);
      expect(none.status).toBe(2);
      expect(none.stderr).toMatch(/missing\.yaml.*no such file/);
    });
  });
});
