// Every scenario in scenarios/ runs here in virtual time and must pass: a scenario's
// expectations are the project's claims, so a regression in the device, a peer or the lab
// fails this test naming the scenario and the expectation.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonBuilt, projectRoot } from '../../native/index.ts';
import { limitText, valueText } from '../report/judge.ts';
import { findScenarioFiles, loadScenario } from './load.ts';
import { runScenario } from './runner.ts';

const files = findScenarioFiles([path.join(projectRoot, 'scenarios')]);

describe.skipIf(!addonBuilt())('scenarios/ (virtual time)', () => {
  it('finds the scenarios the issue asks for', () => {
    const names = files.map((f) => loadScenario(f).scenario.name);
    for (const n of ['aes67-1ms-l24-8ch', 'l16-125us-8ch', 'l24-96k', 'dante-8ch-sap', 'ravenna-rtsp-125us', 'loss-1pct', 'burst-loss', 'jitter-2ms', 'gm-failover', 'ptp-step', 'drift-100ppm', '128ch-16streams']) {
      expect(names).toContain(n);
    }
    expect(files.filter((f) => f.includes(`${path.sep}smoke${path.sep}`)).length).toBeGreaterThanOrEqual(2);
  });

  it.each(files.map((f) => [path.relative(projectRoot, f), f]))('%s passes', (_rel, file) => {
    const r = runScenario(loadScenario(file));
    const problems = [
      ...(r.error ? [`error: ${r.error}`] : []),
      ...r.expectations.filter((e) => e.verdict !== 'pass').map((e) => `${e.verdict} ${e.name} = ${valueText(e.value, e.unit)} (expected ${limitText(e.limit, e.unit)})${e.message ? `: ${e.message}` : ''}`),
    ];
    expect(problems).toEqual([]);
    expect(r.verdict).toBe('pass');
    expect(r.expectations.length).toBeGreaterThan(0);
  });
});
