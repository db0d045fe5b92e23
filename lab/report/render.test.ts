import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTempDir } from '../net/test-support.ts';
import { hasFfmpeg } from '../measure/test-support.ts';
import { decimate } from './plots.ts';
import { parseReport, writeReport } from './report-file.ts';
import { renderReportFiles } from './render-all.ts';
import { renderHtml } from './render-html.ts';
import { renderJunit } from './render-junit.ts';
import { renderSummary } from './render-summary.ts';
import type { Report } from './schema.ts';
import { hasChromium, openInChromium } from './test-browser.ts';
import { fixtureReport } from './test-fixture.ts';
import { countColour, decodePng, inkFraction } from './test-png.ts';

const XSD = path.join(path.dirname(new URL(import.meta.url).pathname), 'junit.xsd');
const xmllint = spawnSync('xmllint', ['--version']).status === 0;
const chromium = hasChromium();
if (!xmllint) console.warn('report render tests: xmllint missing (apt-get install libxml2-utils): the junit.xml schema check is skipped');
if (!chromium) console.warn('report render tests: /usr/bin/chromium missing (apt-get install chromium): the browser check is skipped');

/** The first colour of vega's default categorical scheme (tableau10), which draws every first series. */
const FIRST_SERIES: [number, number, number] = [0x4c, 0x78, 0xa8];

/** What each plot must show, counted from the report itself rather than from the renderer. */
function expectedMarks(r: Report) {
  return r.scenarios.map((s) => ({
    'ptp-offset': s.ptpOffset.length ? { elements: s.ptpOffset.length } : undefined,
    'playout-fill': s.playoutFill.length ? { elements: s.playoutFill.length } : undefined,
    'latency-histogram': s.latency.length ? { atLeast: 1, atMost: s.latency.reduce((a, l) => a + l.values.length, 0) } : undefined,
    'pit-histogram': s.pitHistogram.length ? { elements: s.pitHistogram.reduce((a, h) => a + h.bins.filter((b) => b.count > 0).length, 0) } : undefined,
    'glitch-timeline': s.glitches.length ? { elements: s.glitches.length } : undefined,
  }));
}

describe('report renderers', () => {
  it.skipIf(!chromium)('index.html renders in headless Chromium: no console errors, no requests, every plot drew its marks', async () => {
    await withTempDir(async (dir) => {
      const report = parseReport(fixtureReport());
      const files = await renderReportFiles(report, dir);
      const html = readFileSync(files.html, 'utf8');
      expect(html).not.toMatch(/<script|https?:\/\/(?!vega\.github\.io|www\.w3\.org)/);
      const opened = await openInChromium(files.html);
      try {
        const { page } = opened;
        // The summary table lists every scenario with its verdict, above everything else.
        const summary = await page.$$eval('#summary tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent?.trim())));
        expect(summary).toEqual(report.scenarios.map((s) => [s.name, s.verdict]));
        const firstSection = await page.$eval('body', (b) => b.querySelector('section')?.id);
        expect(firstSection).toBe('summary');
        expect(await page.$$eval('#field-failures tbody tr', (rows) => rows.length)).toBe(report.fieldFailures.length);

        // Every id on the page (several inline SVGs) is unique.
        const ids = await page.$$eval('[id]', (els) => els.map((e) => e.id));
        expect(new Set(ids).size).toBe(ids.length);

        const expected = expectedMarks(report);
        const sections = await page.$$('section.scenario');
        expect(sections.length).toBe(report.scenarios.length);
        let plotsChecked = 0;
        for (let i = 0; i < sections.length; i++) {
          const figures = await sections[i].$$('figure.plot');
          const kinds = await Promise.all(figures.map((f) => f.getAttribute('data-plot')));
          const want = Object.entries(expected[i]).filter(([, v]) => v !== undefined);
          expect(kinds, report.scenarios[i].name).toEqual(want.map(([k]) => k));
          for (let j = 0; j < figures.length; j++) {
            const spec = want[j][1] as { elements?: number; atLeast?: number; atMost?: number };
            // Data marks are the children of vega's role-mark groups (axes and legends have other roles).
            const drawn = await figures[j].$$eval('svg g.role-mark > *', (els) => els.length);
            const where = `${report.scenarios[i].name} ${kinds[j]}`;
            if (spec.elements !== undefined) expect(drawn, where).toBe(spec.elements);
            else {
              expect(drawn, where).toBeGreaterThanOrEqual(spec.atLeast as number);
              expect(drawn, where).toBeLessThanOrEqual(spec.atMost as number);
            }
            const box = await figures[j].boundingBox();
            expect(box?.width, where).toBeGreaterThan(300);
            expect(box?.height, where).toBeGreaterThan(100);
            // The pixels: not blank, and the first series' colour is on screen.
            const shot = decodePng(await figures[j].screenshot());
            expect(inkFraction(shot), where).toBeGreaterThan(0.02);
            expect(countColour(shot, FIRST_SERIES), where).toBeGreaterThan(20);
            plotsChecked++;
          }
        }
        expect(plotsChecked).toBe(expected.reduce((a, e) => a + Object.values(e).filter(Boolean).length, 0));
        expect(plotsChecked).toBeGreaterThanOrEqual(9);
        const full = decodePng(await page.screenshot({ fullPage: true }));
        expect(inkFraction(full)).toBeGreaterThan(0.03);
        expect(opened.consoleErrors).toEqual([]);
        expect(opened.requests).toEqual([]);
      } finally {
        await opened.close();
      }
    });
  });

  it.skipIf(!chromium || !hasFfmpeg())('the PNG decoder the screenshot check uses agrees with ffmpeg byte for byte', async () => {
    await withTempDir(async (dir) => {
      const files = await renderReportFiles(parseReport(fixtureReport()), dir);
      const opened = await openInChromium(files.html, { width: 640, height: 400 });
      try {
        const png = await opened.page.screenshot();
        const file = path.join(dir, 'shot.png');
        writeFileSync(file, png);
        const ours = decodePng(png);
        const theirs = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-'], { maxBuffer: 1 << 26 });
        expect([ours.width, ours.height]).toEqual([640, 400]);
        expect(Buffer.from(ours.rgba).equals(theirs)).toBe(true);
      } finally {
        await opened.close();
      }
    });
  });

  it.skipIf(!xmllint)('junit.xml validates against the JUnit XSD with xmllint; the XSD rejects malformed files', () => {
    withTempDir((dir) => {
      const xml = renderJunit(parseReport(fixtureReport()));
      const good = path.join(dir, 'junit.xml');
      writeFileSync(good, xml);
      const ok = spawnSync('xmllint', ['--noout', '--schema', XSD, good], { encoding: 'utf8' });
      expect(ok.stderr).toMatch(/validates/);
      expect(ok.status).toBe(0);
      const broken: [string, string][] = [
        ['a testcase without a name', xml.replace('<testcase name="ptp.lockTime"', '<testcase')],
        ['a count that is not a number', xml.replace('failures="2"', 'failures="two"')],
        ['a failure and an error in one testcase', xml.replace('</failure>', '</failure><error message="x"/>')],
        ['a zone in the Ant timestamp', xml.replace(/timestamp="([^"]+)"/, 'timestamp="$1Z"')],
        ['properties after testcases', xml.replace(/(<properties>[\s\S]*?<\/properties>)\n(\s*<testcase[^\n]*\/>)/, '$2\n$1')],
      ];
      for (const [what, text] of broken) {
        expect(text, what).not.toBe(xml);
        const f = path.join(dir, 'bad.xml');
        writeFileSync(f, text);
        const r = spawnSync('xmllint', ['--noout', '--schema', XSD, f], { encoding: 'utf8' });
        expect(r.status, `${what}: ${r.stderr}`).not.toBe(0);
      }
    });
  });

  it('junit.xml read by a second consumer (python xml.etree): one testcase per expectation, counts agree', () => {
    const report = parseReport(fixtureReport());
    // Add a scenario that stopped with an error, and characters XML must escape.
    report.scenarios.push({
      ...report.scenarios[0],
      name: 'crashed <&> "quoted"',
      verdict: 'error',
      error: 'engine threw: bad_alloc & friends <here>',
      expectations: [{ ...report.scenarios[0].expectations[0] }],
    });
    withTempDir((dir) => {
      const f = path.join(dir, 'junit.xml');
      writeFileSync(f, renderJunit(report));
      const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
out = {"root": root.tag, "attrs": {k: root.get(k) for k in ("tests", "failures", "errors")}, "suites": []}
for s in root.iter("testsuite"):
    cases = s.findall("testcase")
    out["suites"].append({
        "name": s.get("name"),
        "attrs": {k: int(s.get(k)) for k in ("tests", "failures", "errors")},
        "cases": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "messages": [x.get("message") for c in cases for x in list(c) if x.tag in ("failure", "error")],
    })
print(json.dumps(out))
`;
      const parsed = JSON.parse(execFileSync('python3', ['-c', script, f], { encoding: 'utf8' }));
      expect(parsed.root).toBe('testsuites');
      const expected = report.scenarios.map((s) => {
        const failures = s.expectations.filter((e) => e.verdict === 'fail').length;
        const errors = s.expectations.filter((e) => e.verdict === 'error').length + (s.error ? 1 : 0);
        return { name: s.name, cases: s.expectations.length + (s.error ? 1 : 0), failures, errors };
      });
      expect(parsed.suites.map((s: any) => ({ name: s.name, cases: s.cases, failures: s.failures, errors: s.errors }))).toEqual(expected);
      for (const s of parsed.suites) expect(s.attrs).toEqual({ tests: s.cases, failures: s.failures, errors: s.errors });
      expect(Number(parsed.attrs.tests)).toBe(expected.reduce((a, s) => a + s.cases, 0));
      // The failure message carries the value and the limit.
      expect(parsed.suites[1].messages).toContain('latency.roundTrip: 9.5 ms, limit ≤ 8 ms');
      expect(parsed.suites[2].messages).toContain('engine threw: bad_alloc & friends <here>');
    });
  });

  it('summary.md is short and names every failing expectation with value and limit', () => {
    const report = parseReport(fixtureReport());
    const md = renderSummary(report);
    expect(md.split('\n')[0]).toBe('## aes67-lab: ERROR: 1 of 2 scenarios errored');
    expect(md.length).toBeLessThan(2000);
    for (const s of report.scenarios) expect(md).toContain(`| ${s.name} |`);
    expect(md).toContain('latency.roundTrip 9.5 ms (≤ 8 ms)');
    expect(md).toContain('glitches 3 (= 0)');
    expect(md).toContain('### Field-failure matrix');
    expect(md).toContain('| Late packets into Dante (2 ms window) | bondagit/aes67-linux-daemon#227 | late-into-dante-2.5ms | ❌ fail | worst packet margin: -0.5 ms | variant that delays TX by 2.5 ms: flagged as it should be |');
  });

  it("index.html gives a HIL run's PTP clock apart: the DUT's own figures first, the runner's wall time after, in a table of their own", async () => {
    const input = fixtureReport();
    const hilFigures = { 'ptp.lockSeenFromRunnerStartMs': 9876.5, 'ptp.dut.lastAcquisitionMs': 3161.1, 'ptp.span.lockLosses': 0, 'ptp.span.steps': 2, 'ptp.dut.lockedDuringRun': true };
    input.scenarios[0] = { ...input.scenarios[0], clock: 'real', figures: { ...input.scenarios[0].figures, ...hilFigures } };
    const html = await renderHtml(parseReport(input));
    const sections = html.split('<section class="scenario"');
    const table = sections[1].match(/<h3>DUT PTP clock<\/h3>\s*<table class="ptp-clock"><tbody>([\s\S]*?)<\/tbody><\/table>/)?.[1];
    expect(table, 'the HIL scenario has a DUT PTP clock table').toBeDefined();
    const rows = [...table!.matchAll(/<code>([^<]+)<\/code><\/small><\/td><td class="num">([^<]+)<\/td>/g)].map((m) => [m[1], m[2]]);
    // Every figure given is in it, with its value as the report has it.
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(hilFigures).map(([k, v]) => [k, `${String(v)}${k.endsWith('Ms') ? ' ms' : ''}`])));
    const order = rows.map((r) => r[0]);
    expect(order.indexOf('ptp.dut.lastAcquisitionMs')).toBeLessThan(order.indexOf('ptp.lockSeenFromRunnerStartMs'));
    // A scenario without those figures (virtual time) has no such table.
    expect(sections[2]).not.toContain('DUT PTP clock');
  });

  it('decimation keeps every extreme of a long series', () => {
    const n = 86_400;
    const t = Array.from({ length: n }, (_, i) => i);
    const v = t.map((i) => Math.sin(i / 500) * 100 + (i === 43_210 ? 5000 : 0) - (i === 70_001 ? 4000 : 0));
    const d = decimate(t, v, 2000);
    expect(d.t.length).toBeLessThanOrEqual(2000);
    expect(Math.max(...d.v)).toBe(Math.max(...v));
    expect(Math.min(...d.v)).toBe(Math.min(...v));
    expect(d.t).toContain(43_210);
    expect(d.t).toContain(70_001);
  });

  it('aes67-lab report re-renders from report.json, into -o, and names the path of a bad report', () => {
    withTempDir((dir) => {
      const json = path.join(dir, 'run', 'report.json');
      writeReport(json, fixtureReport());
      const bin = ['tsx', 'lab/cli/bin.ts', 'report'];
      const here = spawnSync('npx', [...bin, json], { encoding: 'utf8' });
      expect(here.status, here.stderr).toBe(0);
      expect(here.stdout).toMatch(/^ERROR: 1 of 2 scenarios errored/);
      for (const f of ['index.html', 'junit.xml', 'summary.md']) expect(existsSync(path.join(dir, 'run', f)), f).toBe(true);
      const out = path.join(dir, 'elsewhere');
      const there = spawnSync('npx', [...bin, json, '-o', out, '--exit-code'], { encoding: 'utf8' });
      expect(there.status).toBe(1);
      for (const f of ['index.html', 'junit.xml', 'summary.md', 'report.json']) expect(existsSync(path.join(out, f)), f).toBe(true);
      expect(readFileSync(path.join(out, 'summary.md'), 'utf8')).toBe(readFileSync(path.join(dir, 'run', 'summary.md'), 'utf8'));
      const bad = JSON.parse(readFileSync(json, 'utf8'));
      bad.scenarios[0].expectations[1].unit = 5;
      const badFile = path.join(dir, 'bad.json');
      writeFileSync(badFile, JSON.stringify(bad));
      const refused = spawnSync('npx', [...bin, badFile], { encoding: 'utf8' });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`${badFile}: not a valid report:`);
      expect(refused.stderr).toContain('scenarios[0].expectations[1].unit:');
      const missing = spawnSync('npx', [...bin, path.join(dir, 'nope.json')], { encoding: 'utf8' });
      expect(missing.status).toBe(1);
      expect(missing.stderr).toMatch(/nope\.json: no such report/);
    });
  });
});
