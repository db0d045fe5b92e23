import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonBuilt } from '../../native/index.ts';
import { EXAMPLE, runExampleScenario } from './example-report.ts';
import { projectRoot } from './metadata.ts';
import { parseReport, readReport } from './report-file.ts';

const committed = path.join(projectRoot, 'reports/examples/playout-loopback/report.json');

describe.skipIf(!addonBuilt())('example run through the engine PlayoutBuffer, measured by lab/measure', () => {
  const scenario = parseReport({
    schema: 'aes67-lab/report',
    schemaVersion: 1,
    run: { startedAt: '2025-01-01T00:00:00Z', project: { name: 'x', version: '0' }, git: { commit: null, dirty: null }, host: { hostname: 'h', os: 'o', arch: 'a', node: 'n', cpus: 1 }, peers: [] },
    scenarios: [runExampleScenario()],
  }).scenarios[0];

  it('is deterministic for its seed', () => {
    expect(JSON.stringify(runExampleScenario())).toBe(JSON.stringify(runExampleScenario()));
  });

  it('latency by correlation equals the link offset to the sample, fully attributed to network + playout buffer', () => {
    const l = scenario.latency[0];
    expect(l.values).toEqual([(EXAMPLE.linkOffsetFrames * 1000) / EXAMPLE.sampleRate]);
    expect(l.residualSamples).toBe(0);
    expect((l.stages ?? []).reduce((a, s) => a + s.samples, 0)).toBeCloseTo(EXAMPLE.linkOffsetFrames, 6);
  });

  it("the detector hears every run of silence the PlayoutBuffer logged, at the lost packet's first sample, with its cause", () => {
    expect(scenario.glitches.length).toBe(scenario.figures['playout.glitches']);
    expect(scenario.glitches.length).toBeGreaterThan(2);
    for (const g of scenario.glitches) {
      expect(g.sample! % EXAMPLE.framesPerPacket, `glitch at ${g.sample}`).toBe(0);
      expect(g.kinds).toContain('dropout');
      expect(['lost', 'late']).toContain(g.cause);
    }
    expect(scenario.glitches.filter((g) => g.cause === 'late').map((g) => g.sample)).toEqual([EXAMPLE.latePacket * EXAMPLE.framesPerPacket]);
    expect(scenario.glitches.filter((g) => g.cause === 'lost').length).toBe(scenario.figures['rtp.lost']);
    expect(scenario.verdict).toBe('pass');
  });

  it('no impairment: one-way latency equals the link offset to the sample across ptime {125 µs, 1 ms} × IO buffer {32, 256} × rate {48, 96 kHz}', () => {
    for (const sampleRate of [48000, 96000]) {
      for (const ptimeUs of [125, 1000]) {
        for (const ioFrames of [32, 256]) {
          const framesPerPacket = (sampleRate * ptimeUs) / 1e6;
          const baseDelayUs = 500;
          // The reader must find a whole IO block's packets already there: the link offset covers
          // the block, one packet and the network delay, rounded up to the block.
          const need = ioFrames + framesPerPacket + Math.ceil((baseDelayUs * sampleRate) / 1e6);
          const linkOffsetFrames = Math.ceil(need / ioFrames) * ioFrames;
          const s = runExampleScenario({ ...EXAMPLE, sampleRate, framesPerPacket, ioFrames, linkOffsetFrames, baseDelayUs, jitterSdUs: 0, lossProbability: 0, latePacket: -1, lateByUs: 0, seconds: 1 });
          const where = `${sampleRate} Hz, ${ptimeUs} µs, IO ${ioFrames}`;
          expect(s.latency?.[0].values, where).toEqual([Number(((linkOffsetFrames * 1000) / sampleRate).toFixed(6))]);
          expect(s.latency?.[0].residualSamples, where).toBe(0);
          expect(s.glitches, where).toEqual([]);
          expect(s.verdict, where).toBe('pass');
        }
      }
    }
  });

  it('the committed example is what the code produces now (regenerate: npx tsx lab/report/example-report.ts)', () => {
    expect(existsSync(committed), committed).toBe(true);
    expect(readReport(committed).scenarios).toEqual([scenario]);
  });
});
