import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../analyze/analyze-capture.ts';
import { sharedCapturesDir } from '../net/pcap/shared-captures.ts';
import { withTempDir } from '../net/test-support.ts';
import { pitHistogramFromAnalysis } from './from-measure.ts';
import { schemaFile, schemaText } from './export-schema.ts';
import { judge, limitText, scenarioVerdict } from './judge.ts';
import { collectRunMetadata, projectRoot } from './metadata.ts';
import { parseReport, readReport, ReportValidationError, writeReport } from './report-file.ts';
import { fixtureReport } from './test-fixture.ts';

/** Returns the report with `edit` applied to a deep copy. */
function edited(edit: (r: any) => void): unknown {
  const r = structuredClone(fixtureReport()) as any;
  edit(r);
  return r;
}

function problems(value: unknown): { path: string; message: string }[] {
  try {
    parseReport(value, 'bad.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ReportValidationError);
    expect((e as Error).message).toMatch(/^bad\.json: not a valid report:/);
    return (e as ReportValidationError).problems;
  }
  throw new Error('the report was accepted');
}

/** A python3 that has the jsonschema module (Debian: python3-jsonschema), if any. */
function pythonWithJsonschema(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    if (spawnSync(py, ['-c', 'import jsonschema'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}
const python = pythonWithJsonschema();
if (!python) console.warn('report schema: no python3 with jsonschema (apt-get install python3-jsonschema): the second-validator crossing is skipped');

describe('report.json schema', () => {
  it('round-trips: parse, write, read give the same report, byte-stable', () => {
    const parsed = parseReport(fixtureReport());
    expect(parseReport(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
    withTempDir((dir) => {
      const file = path.join(dir, 'sub', 'report.json');
      writeReport(file, fixtureReport());
      const first = readFileSync(file, 'utf8');
      expect(readReport(file)).toEqual(parsed);
      writeReport(file, readReport(file));
      expect(readFileSync(file, 'utf8')).toBe(first);
    });
  });

  it('fills defaults for series a scenario did not record', () => {
    const r = parseReport(
      edited((x) => {
        delete x.scenarios[0].ptpOffset;
        delete x.scenarios[0].figures;
        delete x.fieldFailures;
      }),
    );
    expect(r.scenarios[0].ptpOffset).toEqual([]);
    expect(r.scenarios[0].figures).toEqual({});
    expect(r.fieldFailures).toEqual([]);
  });

  it('names the path of every problem', () => {
    expect(problems(edited((x) => (x.scenarios[1].expectations[0].verdict = 'ok')))).toEqual([
      { path: 'scenarios[1].expectations[0].verdict', message: expect.stringMatching(/pass.*fail.*error/) },
    ]);
    expect(problems(edited((x) => x.scenarios[0].ptpOffset[0].values.pop()))).toEqual([{ path: 'scenarios[0].ptpOffset[0].values', message: 'has 199 entries but t has 200' }]);
    expect(problems(edited((x) => (x.scenarios[0].ptpOffset[0].t[5] = -1)))[0].path).toBe('scenarios[0].ptpOffset[0].t[5]');
    expect(problems(edited((x) => (x.run.peers[0].colour = 'red')))).toEqual([{ path: 'run.peers[0]', message: "unknown key 'colour'" }]);
    expect(problems(edited((x) => delete x.run.git))[0].path).toBe('run.git');
    expect(problems(edited((x) => (x.run.startedAt = 'yesterday')))[0].path).toBe('run.startedAt');
    expect(problems(edited((x) => (x.scenarios[0].glitches = [{ t: 1, channel: 0, lengthSamples: 0, kinds: [] }]))).map((p) => p.path)).toEqual([
      'scenarios[0].glitches[0].lengthSamples',
      'scenarios[0].glitches[0].kinds',
    ]);
    expect(problems(edited((x) => (x.scenarios[0].expectations[0].value = Number.NaN)))[0].path).toMatch(/^scenarios\[0\]\.expectations\[0\]\.value/);
  });

  it('rejects verdicts that contradict their own figures', () => {
    // 9.5 ms against ≤ 8 ms recorded as a pass.
    expect(problems(edited((x) => (x.scenarios[1].expectations[0].verdict = 'pass')))).toContainEqual({
      path: 'scenarios[1].expectations[0].verdict',
      message: `'pass' contradicts value 9.5 against limit {"max":8}`,
    });
    // A failing expectation inside a passing scenario.
    expect(problems(edited((x) => (x.scenarios[0].expectations[0].value = 12)))).toEqual([
      { path: 'scenarios[0].expectations[0].verdict', message: `'pass' contradicts value 12 against limit {"max":8}` },
    ]);
    expect(problems(edited((x) => (x.scenarios[1].verdict = 'fail')))).toEqual([{ path: 'scenarios[1].verdict', message: "is 'fail' but its expectations make it 'error'" }]);
    expect(problems(edited((x) => (x.scenarios[0].expectations = [])))).toEqual([{ path: 'scenarios[0].expectations', message: 'a scenario with no expectations cannot pass: it checked nothing' }]);
    expect(problems(edited((x) => (x.scenarios[1].expectations[3].verdict = 'fail')))).toContainEqual({ path: 'scenarios[1].expectations[3].value', message: "null (not measured) needs verdict 'error', not 'fail'" });
    expect(problems(edited((x) => (x.scenarios[1].name = x.scenarios[0].name)))).toContainEqual({ path: 'scenarios[1].name', message: "'aes67-1ms-l24-8ch' is also scenarios[0]" });
    expect(problems(edited((x) => (x.fieldFailures[0].scenario = 'nope')))).toEqual([{ path: 'fieldFailures[0].scenario', message: "'nope' is not a scenario in this report" }]);
  });

  it('refuses a newer schema version with the fix, and a file that is not JSON', () => {
    expect(problems(edited((x) => (x.schemaVersion = 2)))).toEqual([{ path: 'schemaVersion', message: '2 is newer than this lab reads (1): update aes67-lab' }]);
    withTempDir((dir) => {
      const f = path.join(dir, 'r.json');
      writeFileSync(f, '{"schema": ');
      expect(() => readReport(f)).toThrow(/r\.json: not a valid report:\n {2}\(file\): not JSON/);
      expect(() => readReport(path.join(dir, 'missing.json'))).toThrow(/missing\.json: cannot read the report/);
      // A write of an invalid report leaves nothing behind.
      expect(() => writeReport(f, edited((x) => (x.scenarios = 5)) as any)).toThrow(/scenarios/);
      expect(readFileSync(f, 'utf8')).toBe('{"schema": ');
    });
  });

  it('judge and scenarioVerdict follow the rule the schema checks', () => {
    expect(judge('x', 8, { max: 8 }, 'ms').verdict).toBe('pass');
    expect(judge('x', 8.001, { max: 8 }, 'ms').verdict).toBe('fail');
    expect(judge('x', 1, { min: 2, max: 3 }, 'ms').verdict).toBe('fail');
    expect(judge('x', 'locked', { equals: 'locked' }, '').verdict).toBe('pass');
    expect(judge('x', null, { max: 1 }, 'ms').verdict).toBe('error');
    expect(() => judge('x', 1, { text: 'looks fine' }, '')).toThrow(/no min, max or equals/);
    expect(scenarioVerdict([{ verdict: 'pass' }, { verdict: 'fail' }])).toBe('fail');
    expect(scenarioVerdict([{ verdict: 'pass' }], 'crashed')).toBe('error');
    expect(limitText({ max: 8 }, 'ms')).toBe('≤ 8 ms');
    expect(limitText({ min: 1, max: 5 }, 's')).toBe('1 … 5 s');
    expect(limitText({ equals: 0 }, 'count')).toBe('= 0');
  });

  it('run metadata: version from package.json, the checkout commit, the peers doctor finds', () => {
    const m = collectRunMetadata(new Date('2025-01-01T00:00:00Z'), {
      command: 'test',
      doctorReport: { host: { os: 'Linux', arch: 'x64', node: 'v20', cpus: 2 }, capabilities: [{ name: 'ffmpeg', available: true, version: '5.1', detail: 'ffmpeg 5.1' }] },
    });
    const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8'));
    expect(m.project).toEqual({ name: pkg.name, version: pkg.version });
    expect(m.git.commit).toBe(execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' }).trim());
    expect(m.peers).toEqual([{ name: 'ffmpeg', available: true, version: '5.1', detail: 'ffmpeg 5.1' }]);
    const r = parseReport({ ...fixtureReport(), run: m });
    expect(r.run.startedAt).toBe('2025-01-01T00:00:00.000Z');
  });

  const ebu = path.join(sharedCapturesDir, 'ebu-list/st2110-30/l16_48000_2ch_1ms.pcap');
  it.skipIf(!existsSync(ebu))('takes a PIT histogram from lab/analyze as it is (an EBU LIST capture from ../shared/captures)', () => {
    const stream = analyzeCapture(ebu).streams[0];
    const h = pitHistogramFromAnalysis(stream);
    const r = parseReport(edited((x) => (x.scenarios[0].pitHistogram = [h])));
    const bins = r.scenarios[0].pitHistogram[0].bins;
    // One inter-arrival time per packet after the first.
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(stream.packets - 1);
    expect(r.scenarios[0].pitHistogram[0].binUs).toBe(stream.pitHistogram.binUs);
  });

  it('the committed reports/report.schema.json is the one the schema exports', () => {
    expect(readFileSync(schemaFile, 'utf8'), 'run: npx tsx lab/report/export-schema.ts').toBe(schemaText());
  });

  it.skipIf(!python)('a second validator (python jsonschema) accepts the report and rejects a malformed one', () => {
    withTempDir((dir) => {
      const good = path.join(dir, 'good.json');
      const bad = path.join(dir, 'bad.json');
      writeFileSync(good, JSON.stringify(parseReport(fixtureReport())));
      writeFileSync(bad, JSON.stringify(edited((x) => (x.scenarios[0].glitches = [{ t: 1, channel: 0, lengthSamples: 1, kinds: ['click'] }]))));
      const script = `
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
for f in sys.argv[2:]:
    errs = sorted(v.iter_errors(json.load(open(f))), key=lambda e: list(e.absolute_path))
    print(json.dumps([[str(p) for p in e.absolute_path] for e in errs]))
`;
      const out = execFileSync(python as string, ['-c', script, schemaFile, good, bad], { encoding: 'utf8' }).trim().split('\n');
      expect(JSON.parse(out[0])).toEqual([]);
      expect(JSON.parse(out[1])).toEqual([['scenarios', '0', 'glitches', '0', 'kinds', '0']]);
    });
  });
});
