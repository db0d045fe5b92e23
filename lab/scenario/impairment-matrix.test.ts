// The impairment matrix (issue 9): every scenario in scenarios/impairments/ runs in virtual
// time and must pass, each judged against the impairments' own ledger of the audio they
// lost (lab/impair/loss-ledger.ts, lab/scenario/expect-lost.ts), never the device's
// counters. Prints one line per item: expected and heard glitches, recovery.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonBuilt, projectRoot } from '../../native/index.ts';
import { limitText, valueText } from '../report/judge.ts';
import type { ScenarioResult } from '../report/schema.ts';
import { findScenarioFiles, loadScenario } from './load.ts';
import { runScenario } from './runner.ts';

const dir = path.join(projectRoot, 'scenarios', 'impairments');
const files = findScenarioFiles([dir]);

/** What issue 9's matrix asks for, and the scenarios that cover it. */
const MATRIX: Record<string, string[]> = {
  'loss 0.1 / 1 / 5 %': ['loss-0-1pct', 'loss-1pct', 'loss-5pct'],
  'bursts of 2-50 packets': ['burst-2', 'burst-10', 'burst-50', 'burst-loss'],
  'jitter up to and beyond the playout buffer': ['jitter-2ms', 'jitter-at-buffer', 'jitter-beyond-buffer'],
  'reordering and duplication': ['reorder-duplicate'],
  'SSRC change mid-stream': ['ssrc-reboot', 'ssrc-change-no-pause'],
  'sequence and timestamp wrap': ['sequence-timestamp-wrap'],
  'grandmaster failover': ['gm-failover'],
  '+-1 s PTP step': ['ptp-step', 'ptp-step-plus-1s', 'ptp-step-minus-1s'],
  'sender drift +-100 ppm': ['drift-100ppm', 'drift-plus-100ppm'],
};

/**
 * Open defects the matrix found, each with exactly the expectations that fail today. The
 * test fails when one of them starts passing (update this list and the scenario's text),
 * or when anything else fails.
 */
const KNOWN_FAILING: Record<string, { expectations: string[]; why: string }> = {};

function problems(r: ScenarioResult): string[] {
  return [
    ...(r.error ? [`error: ${r.error}`] : []),
    ...r.expectations.filter((e) => e.verdict !== 'pass').map((e) => `${e.verdict} ${e.name} = ${valueText(e.value, e.unit)} (expected ${limitText(e.limit, e.unit)})${e.message ? `: ${e.message}` : ''}`),
  ];
}

const value = (r: ScenarioResult, name: string) => r.expectations.find((e) => e.name === name)?.value;

describe.skipIf(!addonBuilt())('impairment matrix (scenarios/impairments/, virtual time)', () => {
  it('covers every item of the matrix, and every scenario is judged against the ledger', () => {
    const names = files.map((f) => loadScenario(f).scenario.name);
    for (const [item, wanted] of Object.entries(MATRIX)) for (const n of wanted) expect(names, `${item}: ${n}`).toContain(n);
    for (const f of files) {
      const s = loadScenario(f).scenario;
      const ledgerJudged = 'glitches.equalsLedger' in s.expect || KNOWN_FAILING[s.name] !== undefined;
      expect(ledgerJudged, `${s.name} expects glitches.equalsLedger`).toBe(true);
    }
  });

  it('runs every scenario: no crash, glitches equal to the audio the ledger says was lost, recovery reported', () => {
    const started = performance.now();
    const lines: string[] = [];
    const failures: string[] = [];
    for (const f of files) {
      const loaded = loadScenario(f);
      const r = runScenario(loaded);
      const known = KNOWN_FAILING[r.name];
      const failing = r.expectations.filter((e) => e.verdict !== 'pass').map((e) => e.name);
      if (r.error) failures.push(`${r.name}: ${r.error}`);
      else if (known) {
        if (JSON.stringify(failing) !== JSON.stringify(known.expectations)) failures.push(`${r.name} (known defect: ${known.why}) now fails [${failing.join(', ')}] instead of [${known.expectations.join(', ')}]: ${problems(r).join('; ')}`);
      } else if (failing.length) failures.push(`${r.name}: ${problems(r).join('; ')}`);
      const heard = r.figures['ledger.glitchesHeard'];
      const recovery = r.figures['ledger.recoveryAfterLossMs'] ?? '-';
      lines.push(
        `${r.name.padEnd(24)} ${String(r.verdict).padEnd(5)} expected ${String(r.figures['ledger.glitchesExpected'] ?? '-').padStart(4)} heard ${String(heard ?? '-').padStart(4)}` +
          ` (sharing ${r.figures['ledger.gapsSharingAGlitch'] ?? 0}) recovery.afterLoss ${String(recovery)} ms recovery.afterEvent ${String(value(r, 'recovery.afterEvent') ?? '-')} ms ${(r.wallTimeS ?? 0).toFixed(1)} s`,
      );
    }
    console.log(`impairment matrix, ${files.length} scenarios in ${((performance.now() - started) / 1000).toFixed(1)} s:\n${lines.join('\n')}`);
    expect(failures).toEqual([]);
  }, 600_000);
});
