// junit.xml in the Ant/Jenkins JUnit shape CI systems read: one <testsuite> per scenario,
// one <testcase> per expectation; a failed expectation carries <failure> with its value and
// limit, an unmeasured one <error>. A scenario that stopped with an error gets one more
// testcase, "(scenario run)", holding that error, so it cannot hide behind passing cases.
// lab/report/junit.xsd describes the shape; the tests validate against it with xmllint.
import { limitText, valueText } from './judge.ts';
import type { Report, ScenarioResult } from './schema.ts';

export function xmlEscape(s: string): string {
  // Characters XML 1.0 forbids even escaped are replaced, not passed through.
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

/** Ant's timestamp: ISO 8601 without zone or fraction (UTC here). */
function antTimestamp(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19);
}

function suiteCounts(s: ScenarioResult) {
  const failures = s.expectations.filter((e) => e.verdict === 'fail').length;
  const errors = s.expectations.filter((e) => e.verdict === 'error').length + (s.error !== undefined ? 1 : 0);
  return { tests: s.expectations.length + (s.error !== undefined ? 1 : 0), failures, errors };
}

export function renderJunit(r: Report): string {
  const totals = { tests: 0, failures: 0, errors: 0, time: 0 };
  const suites: string[] = [];
  r.scenarios.forEach((s, id) => {
    const c = suiteCounts(s);
    const time = s.wallTimeS ?? 0;
    totals.tests += c.tests;
    totals.failures += c.failures;
    totals.errors += c.errors;
    totals.time += time;
    const classname = `aes67-lab.${s.suite ?? 'scenarios'}.${s.name}`;
    const lines = [
      `  <testsuite${attrs({ name: s.name, tests: c.tests, failures: c.failures, errors: c.errors, skipped: 0, time: time.toFixed(3), timestamp: antTimestamp(r.run.startedAt), hostname: r.run.host.hostname, id, package: `aes67-lab.${s.suite ?? 'scenarios'}` })}>`,
      '    <properties>',
      ...[
        ['scenario.file', s.file ?? '(built in code)'],
        ['seed', s.seed === null ? 'none' : String(s.seed)],
        ['clock', s.clock],
        ['durationS', String(s.durationS)],
        ['git.commit', r.run.git.commit ?? 'none'],
        ['project.version', r.run.project.version],
      ].map(([name, value]) => `      <property${attrs({ name, value })}/>`),
      '    </properties>',
    ];
    for (const e of s.expectations) {
      const head = `    <testcase${attrs({ name: e.name, classname, time: '0.000' })}`;
      const summary = `${e.name}: ${valueText(e.value, e.unit)}, limit ${limitText(e.limit, e.unit)}`;
      if (e.verdict === 'pass') lines.push(`${head}/>`);
      else if (e.verdict === 'fail') lines.push(`${head}>`, `      <failure${attrs({ message: summary, type: 'expectation' })}>${xmlEscape(e.message ? `${summary}\n${e.message}` : summary)}</failure>`, '    </testcase>');
      else lines.push(`${head}>`, `      <error${attrs({ message: `${e.name}: not measured${e.message ? `: ${e.message}` : ''}`, type: 'measurement' })}>${xmlEscape(e.message ?? 'no value was measured')}</error>`, '    </testcase>');
    }
    if (s.error !== undefined) {
      lines.push(`    <testcase${attrs({ name: '(scenario run)', classname, time: time.toFixed(3) })}>`, `      <error${attrs({ message: s.error, type: 'scenario' })}>${xmlEscape(s.error)}</error>`, '    </testcase>');
    }
    lines.push('    <system-out/>', '    <system-err/>', '  </testsuite>');
    suites.push(lines.join('\n'));
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'aes67-lab', tests: totals.tests, failures: totals.failures, errors: totals.errors, time: totals.time.toFixed(3) })}>`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
