// Every scenario in scenarios/ runs here in virtual time and must pass: a scenario's
// expectations are the project's claims, so a regression in the device, a peer or the lab
// fails this test naming the scenario and the expectation.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonBuilt, projectRoot } from '../../native/index.ts';
import { limitText, valueText } from '../report/judge.ts';
import { findScenarioFiles, loadScenario } from './load.ts';
import { runScenario } from './runner.ts';
import { isSoak } from './soak.ts';

// scenarios/field runs as one suite in field.test.ts (its report's field-failure matrix is checked there);
// scenarios/impairments/ is the impairment matrix: lab/scenario/impairment-matrix.test.ts runs it;
// clock: real scenarios run only against a device on a rig (ci/hil/hil.live.test.ts, ci/hil/real-5min.soak.test.ts).
// Soaks (10 minutes of virtual time or more) run in `npm run soak` (ci/soak.ts), not here.
const files = findScenarioFiles([path.join(projectRoot, 'scenarios')])
  .filter((f) => !f.includes(`${path.sep}scenarios${path.sep}field${path.sep}`))
  .filter((f) => !f.includes(`${path.sep}impairments${path.sep}`))
  .filter((f) => loadScenario(f).scenario.clock !== 'real')
  .filter((f) => !isSoak(loadScenario(f)));

describe.skipIf(!addonBuilt())('scenarios/ (virtual time)', () => {
  it('finds the scenarios the issue asks for', () => {
    const names = files.map((f) => loadScenario(f).scenario.name);
    for (const n of ['aes67-1ms-l24-8ch', 'l16-125us-8ch', 'l24-96k', 'dante-8ch-sap', 'ravenna-rtsp-125us', '128ch-16streams']) {
      expect(names).toContain(n);
    }
    expect(files.filter((f) => f.includes(`${path.sep}smoke${path.sep}`)).length).toBeGreaterThanOrEqual(2);
  });

  for (const file of files) {
    const loaded = loadScenario(file);
    const absent = loaded.scenario.senders
      .filter((s) => s.kind === 'pcap')
      .map((s) => path.resolve(path.dirname(file), s.file!))
      .find((f) => !existsSync(f));
    const name = `${path.relative(projectRoot, file)} passes${absent ? ` (skipped: the capture ${absent} is absent; see ../shared/captures/README.md)` : ''}`;
    (absent ? it.skip : it)(name, () => {
      const r = runScenario(loaded);
      const problems = [
        ...(r.error ? [`error: ${r.error}`] : []),
        ...r.expectations.filter((e) => e.verdict !== 'pass').map((e) => `${e.verdict} ${e.name} = ${valueText(e.value, e.unit)} (expected ${limitText(e.limit, e.unit)})${e.message ? `: ${e.message}` : ''}`),
      ];
      expect(problems).toEqual([]);
      expect(r.verdict).toBe('pass');
      expect(r.expectations.length).toBeGreaterThan(0);
    });
  }
});
