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

  it('the committed example is what the code produces now (regenerate: npx tsx lab/report/example-report.ts)', () => {
    expect(existsSync(committed), committed).toBe(true);
    expect(readReport(committed).scenarios).toEqual([scenario]);
  });
});
