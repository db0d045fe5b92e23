// index.html: one self-contained file. A summary table first (and the field-failure matrix
// when there is one), then per scenario its expectations, figures and plots as inline SVG.
// No script and a Content-Security-Policy that forbids fetching anything: the file opens
// the same from a CI artifact, an e-mail or a laptop offline.
import { limitText, runHeadline, runVerdict, valueText } from './judge.ts';
import { renderSvg, scenarioPlots } from './plots.ts';
import { ptpClockRows } from './ptp-clock.ts';
import type { Report, ScenarioResult, Verdict } from './schema.ts';

export function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const esc = htmlEscape;

/** A fragment id from a scenario name. */
export function scenarioAnchor(name: string, index: number): string {
  return `scenario-${index}-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
}

const badge = (v: Verdict) => `<span class="verdict ${v}">${v}</span>`;

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #1d1d1f; margin: 0 auto; max-width: 1000px; padding: 1.5em; }
h1 { font-size: 1.5em; margin: 0 0 .2em; } h2 { font-size: 1.2em; margin: 1.6em 0 .4em; } h3 { font-size: 1em; margin: 1.2em 0 .3em; }
.meta { color: #555; margin: .2em 0; }
table { border-collapse: collapse; margin: .4em 0 1em; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f4f4f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { display: inline-block; min-width: 3.5em; text-align: center; border-radius: 3px; padding: 0 .4em; font-weight: 600; text-transform: uppercase; font-size: .85em; }
.verdict.pass { background: #d7f5dd; color: #0b5d1e; } .verdict.fail { background: #fcd9d6; color: #8a1107; } .verdict.error { background: #fdeec4; color: #6b4a00; }
.headline { font-size: 1.1em; margin: .5em 0 1em; }
figure.plot { margin: .8em 0; } figure.plot svg { max-width: 100%; height: auto; }
.nodata { color: #777; font-style: italic; }
section.scenario { border-top: 2px solid #eee; }
code { font-size: .95em; }
`;

function runMeta(r: Report): string {
  const g = r.run.git.commit ? `${r.run.git.commit.slice(0, 12)}${r.run.git.dirty ? ' (dirty tree)' : ''}` : 'not a git checkout';
  return [
    `<p class="meta">${esc(r.run.project.name)} ${esc(r.run.project.version)} · commit <code>${esc(g)}</code> · ${esc(r.run.host.hostname)} (${esc(r.run.host.os)} ${esc(r.run.host.arch)}, node ${esc(r.run.host.node)}, ${r.run.host.cpus} cpus)</p>`,
    `<p class="meta">started ${esc(r.run.startedAt)}${r.run.finishedAt ? ` · finished ${esc(r.run.finishedAt)}` : ''}${r.run.command ? ` · <code>${esc(r.run.command)}</code>` : ''}</p>`,
  ].join('\n');
}

function summaryTable(r: Report): string {
  const rows = r.scenarios.map((s, i) => {
    const passed = s.expectations.filter((e) => e.verdict === 'pass').length;
    const bad = s.expectations.filter((e) => e.verdict !== 'pass').map((e) => `${esc(e.name)} ${esc(valueText(e.value, e.unit))} <small>(${esc(limitText(e.limit, e.unit))})</small>`);
    if (s.error) bad.unshift(`run error: ${esc(s.error)}`);
    return `<tr><td><a href="#${scenarioAnchor(s.name, i)}">${esc(s.name)}</a></td><td>${badge(s.verdict)}</td><td class="num">${passed}/${s.expectations.length}</td><td>${bad.join('<br>')}</td><td>${esc(s.clock)}</td><td class="num">${s.seed ?? '–'}</td><td class="num">${s.durationS}</td></tr>`;
  });
  return `<table class="summary"><thead><tr><th>scenario</th><th>verdict</th><th>passed</th><th>failing expectations</th><th>clock</th><th>seed</th><th>duration (s)</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function fieldMatrix(r: Report): string {
  if (r.fieldFailures.length === 0) return '';
  const index = new Map(r.scenarios.map((s, i) => [s.name, i]));
  const rows = r.fieldFailures.map(
    (f) =>
      `<tr><td>${esc(f.failure)}</td><td>${esc(f.note)}</td><td><a href="#${scenarioAnchor(f.scenario, index.get(f.scenario) ?? 0)}">${esc(f.scenario)}</a></td><td>${badge(f.verdict)}</td><td>${esc(f.figure.name)}: ${esc(valueText(f.figure.value, f.figure.unit))}</td><td>${esc(f.detail ?? '')}</td></tr>`,
  );
  return `<section id="field-failures"><h2>Field-failure matrix</h2><table class="field"><thead><tr><th>failure</th><th>source</th><th>scenario</th><th>verdict</th><th>measured</th><th>detail</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></section>`;
}

async function scenarioSection(s: ScenarioResult, i: number): Promise<string> {
  const anchor = scenarioAnchor(s.name, i);
  const out = [
    `<section class="scenario" id="${anchor}">`,
    `<h2>${esc(s.name)} ${badge(s.verdict)}</h2>`,
    `<p class="meta">${s.file ? `<code>${esc(s.file)}</code> · ` : ''}${s.suite ? `suite ${esc(s.suite)} · ` : ''}${esc(s.clock)} clock · ${s.durationS} s · seed ${s.seed ?? 'none'}${s.wallTimeS !== undefined ? ` · took ${s.wallTimeS.toFixed(2)} s` : ''}</p>`,
  ];
  if (s.description) out.push(`<p>${esc(s.description)}</p>`);
  if (s.error) out.push(`<p class="error">${badge('error')} ${esc(s.error)}</p>`);
  out.push(
    '<h3>Expectations</h3>',
    '<table class="expectations"><thead><tr><th>expectation</th><th>measured</th><th>limit</th><th>verdict</th><th>note</th></tr></thead><tbody>',
    ...s.expectations.map((e) => `<tr><td><code>${esc(e.name)}</code></td><td class="num">${esc(valueText(e.value, e.unit))}</td><td>${esc(limitText(e.limit, e.unit))}</td><td>${badge(e.verdict)}</td><td>${esc(e.message ?? '')}</td></tr>`),
    '</tbody></table>',
  );
  const ptp = ptpClockRows(s);
  if (ptp.length > 0) {
    out.push(
      '<h3>DUT PTP clock</h3>',
      '<table class="ptp-clock"><tbody>',
      ...ptp.map((r) => `<tr><td>${esc(r.label)} <small><code>${esc(r.figure)}</code></small></td><td class="num">${esc(`${String(r.value)}${r.unit ? ` ${r.unit}` : ''}`)}</td></tr>`),
      '</tbody></table>',
    );
  }
  const figures = Object.entries(s.figures);
  if (figures.length > 0) {
    out.push('<h3>Figures</h3>', '<table class="figures"><tbody>', ...figures.map(([k, v]) => `<tr><td><code>${esc(k)}</code></td><td class="num">${esc(v === null ? '–' : String(v))}</td></tr>`), '</tbody></table>');
  }
  for (const l of s.latency.filter((x) => x.stages && x.stages.length > 0)) {
    out.push(
      `<h3>Latency stages: ${esc(l.label)}</h3>`,
      '<table class="stages"><thead><tr><th>stage</th><th>samples</th><th>ms</th></tr></thead><tbody>',
      ...(l.stages ?? []).map((st) => `<tr><td>${esc(st.stage)}</td><td class="num">${st.samples}</td><td class="num">${st.ms.toFixed(3)}</td></tr>`),
      l.residualSamples !== undefined ? `<tr><td><em>not accounted for</em></td><td class="num">${l.residualSamples}</td><td></td></tr>` : '',
      '</tbody></table>',
    );
  }
  const plots = scenarioPlots(s);
  if (plots.length === 0) out.push('<p class="nodata">No time series were recorded for this scenario.</p>');
  for (const p of plots) {
    const svg = await renderSvg(p, `${anchor}-${p.kind}`);
    out.push(`<figure class="plot" data-plot="${p.kind}" data-rows="${p.dataRows}">${svg}</figure>`);
  }
  out.push('</section>');
  return out.join('\n');
}

function environment(r: Report): string {
  if (r.run.peers.length === 0) return '';
  return [
    '<section id="environment"><h2>Environment</h2>',
    '<table class="peers"><thead><tr><th>peer</th><th>available</th><th>version</th><th>detail</th></tr></thead><tbody>',
    ...r.run.peers.map((p) => `<tr><td>${esc(p.name)}</td><td>${p.available ? 'yes' : 'no'}</td><td>${esc(p.version ?? '')}</td><td>${esc(p.detail)}</td></tr>`),
    '</tbody></table></section>',
  ].join('\n');
}

export async function renderHtml(r: Report): Promise<string> {
  const v = runVerdict(r.scenarios);
  const sections: string[] = [];
  for (let i = 0; i < r.scenarios.length; i++) sections.push(await scenarioSection(r.scenarios[i], i));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aes67-lab ${v.toUpperCase()}: ${esc(runHeadline(r.scenarios))}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>aes67-lab report</h1>
<p class="headline">${badge(v)} ${esc(runHeadline(r.scenarios))}</p>
${runMeta(r)}
</header>
<section id="summary"><h2>Summary</h2>
${summaryTable(r)}
</section>
${fieldMatrix(r)}
${sections.join('\n')}
${environment(r)}
</body>
</html>
`;
}
