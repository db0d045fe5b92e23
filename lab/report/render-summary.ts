// summary.md: short enough to paste into an issue; the failing expectations are spelled out.
import { limitText, runHeadline, runVerdict, valueText } from './judge.ts';
import type { Report, Verdict } from './schema.ts';

const mark: Record<Verdict, string> = { pass: '✅ pass', fail: '❌ fail', error: '⚠️ error' };
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function renderSummary(r: Report): string {
  const v = runVerdict(r.scenarios);
  const commit = r.run.git.commit ? `${r.run.git.commit.slice(0, 12)}${r.run.git.dirty ? ' (dirty)' : ''}` : 'no git commit';
  const out = [
    `## aes67-lab: ${v.toUpperCase()}: ${runHeadline(r.scenarios)}`,
    '',
    `${r.run.project.name} ${r.run.project.version} @ ${commit} · ${r.run.host.os} ${r.run.host.arch} · node ${r.run.host.node} · ${r.run.startedAt}`,
    '',
    '| scenario | verdict | passed | failing expectations |',
    '| --- | --- | --- | --- |',
  ];
  for (const s of r.scenarios) {
    const passed = s.expectations.filter((e) => e.verdict === 'pass').length;
    const bad = s.expectations
      .filter((e) => e.verdict !== 'pass')
      .map((e) => `${e.name} ${valueText(e.value, e.unit)} (${limitText(e.limit, e.unit)})${e.verdict === 'error' && e.message ? `: ${e.message}` : ''}`);
    if (s.error) bad.unshift(`run error: ${s.error}`);
    out.push(`| ${cell(s.name)} | ${mark[s.verdict]} | ${passed}/${s.expectations.length} | ${cell(bad.join('; '))} |`);
  }
  if (r.fieldFailures.length > 0) {
    out.push('', '### Field-failure matrix', '', '| failure | source | scenario | verdict | measured | detail |', '| --- | --- | --- | --- | --- | --- |');
    for (const f of r.fieldFailures) {
      out.push(`| ${cell(f.failure)} | ${cell(f.note)} | ${cell(f.scenario)} | ${mark[f.verdict]} | ${cell(`${f.figure.name}: ${valueText(f.figure.value, f.figure.unit)}`)} | ${cell(f.detail ?? '')} |`);
    }
  }
  const peers = r.run.peers.map((p) => (p.available ? `${p.name} ${p.version ?? ''}`.trim() : `${p.name} missing`)).join(', ');
  if (peers) out.push('', `Peers: ${peers}`);
  return `${out.join('\n')}\n`;
}
