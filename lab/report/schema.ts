// report.json: the source of truth of a lab run. index.html, junit.xml and summary.md are
// rendered from it and nothing else, so `aes67-lab report report.json` can rebuild them.
//
// Layout: run metadata (what ran, where, with which peers), then one entry per scenario
// (expectations with verdicts, time series, glitch marks, free-form figures), then the
// field-failure matrix when the run covered scenarios/field (issue 11).
//
// Everything outside `run` is a function of the scenario and its seed, so a virtual-time
// run repeated with the same seed writes the same bytes there (keys are emitted in schema
// order; see writeReport).
import { z } from 'zod';

export const REPORT_SCHEMA_VERSION = 1;

export const Verdict = z.enum(['pass', 'fail', 'error']).describe('pass: within limit; fail: measured outside it; error: could not be measured');
export type Verdict = z.infer<typeof Verdict>;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const nonNegative = finite.refine((v) => v >= 0, 'must be ≥ 0');

export const Limit = z
  .object({
    min: finite.optional().describe('inclusive lower bound'),
    max: finite.optional().describe('inclusive upper bound'),
    equals: z.union([finite, z.string(), z.boolean()]).optional().describe('the value must be exactly this'),
    text: z.string().optional().describe('how the scenario wrote it, e.g. "≤ 8 ms" or "equals lost packets"'),
  })
  .strict()
  .refine((l) => l.min !== undefined || l.max !== undefined || l.equals !== undefined || l.text !== undefined, 'give at least one of min, max, equals, text');
export type Limit = z.infer<typeof Limit>;

export const Expectation = z
  .object({
    name: z.string().min(1).describe('dotted name from the scenario, e.g. latency.roundTrip, ptp.lockTime, glitches'),
    value: z.union([finite, z.string(), z.boolean(), z.null()]).describe('what was measured; null when it could not be (verdict error)'),
    limit: Limit,
    unit: z.string().describe('unit of value and limit: ms, us, ns, samples, count, dB, % … ("" for none)'),
    verdict: Verdict,
    message: z.string().optional().describe('why: the error, or what the figure means'),
    failsOnPurpose: z
      .object({
        reason: z.string().optional().describe('what the message must name for the failure to count as detected'),
        detected: z.boolean().describe('the limit was broken (for the named reason): the lab detected the failure the scenario makes'),
      })
      .strict()
      .optional()
      .describe('a fail-on-purpose expectation: its verdict is pass when the lab detected the failure (the limit broken), fail when it missed it'),
  })
  .strict();
export type Expectation = z.infer<typeof Expectation>;

export const Series = z
  .object({
    label: z.string().min(1).describe('what this line is: a slave, a stream, a channel'),
    unit: z.string(),
    t: z.array(finite).describe('seconds since the scenario started (virtual or real time)'),
    values: z.array(finite),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.t.length !== s.values.length) ctx.addIssue({ code: 'custom', path: ['values'], message: `has ${s.values.length} entries but t has ${s.t.length}` });
    for (let i = 1; i < s.t.length; i++) {
      if (s.t[i] < s.t[i - 1]) {
        ctx.addIssue({ code: 'custom', path: ['t', i], message: `time goes backwards (${s.t[i]} after ${s.t[i - 1]})` });
        break;
      }
    }
  });
export type Series = z.infer<typeof Series>;

export const LatencySamples = z
  .object({
    label: z.string().min(1),
    mode: z.enum(['round-trip', 'one-way']),
    unit: z.literal('ms'),
    values: z.array(finite).describe('one per probe (and channel)'),
    stages: z
      .array(z.object({ stage: z.string(), samples: finite, ms: finite }).strict())
      .optional()
      .describe('attribution of the median measurement (lab/measure/latency.ts attributeLatency)'),
    residualSamples: finite.optional().describe('measured minus the sum of stages'),
    confidence: finite.optional().describe('lowest peak-to-second-peak ratio over the probes'),
  })
  .strict();
export type LatencySamples = z.infer<typeof LatencySamples>;

export const Histogram = z
  .object({
    label: z.string().min(1),
    binUs: nonNegative.refine((v) => v > 0, 'must be > 0'),
    bins: z.array(z.object({ fromUs: finite, count: z.number().int().nonnegative() }).strict()).describe('the shape lab/analyze writes for pitHistogram'),
  })
  .strict();
export type Histogram = z.infer<typeof Histogram>;

export const GlitchMark = z
  .object({
    t: nonNegative.describe('seconds since the scenario started'),
    sample: z.number().int().optional().describe('first affected sample on the capture time line'),
    channel: z.number().int().nonnegative(),
    lengthSamples: z.number().int().positive(),
    kinds: z.array(z.enum(['prediction-error', 'dropout', 'discontinuity', 'magnitude-drop', 'phase-jump'])).min(1),
    cause: z.string().optional().describe('from the engine log: lost, late, underrun … (absent: unexplained)'),
  })
  .strict();
export type GlitchMark = z.infer<typeof GlitchMark>;

const FigureValue = z.union([finite, z.string(), z.boolean(), z.null()]);

export const ScenarioResult = z
  .object({
    name: z.string().min(1),
    file: z.string().nullable().describe('scenario file, relative to the project root; null when built in code'),
    suite: z.string().optional().describe('smoke, field, impairments …'),
    description: z.string().optional(),
    seed: z.number().int().nullable(),
    clock: z.enum(['virtual', 'real']),
    durationS: nonNegative.describe('scenario duration as configured (virtual or real seconds)'),
    wallTimeS: nonNegative.optional().describe('how long the run took; varies between runs'),
    verdict: Verdict.describe('fail if any expectation failed, error if any errored or the run itself did'),
    error: z.string().optional().describe('why the scenario could not run to the end'),
    expectations: z.array(Expectation),
    ptpOffset: z.array(Series).default([]).describe('slave offset from master over time, unit ns'),
    playoutFill: z.array(Series).default([]).describe('playout-buffer fill over time, per stream'),
    latency: z.array(LatencySamples).default([]),
    pitHistogram: z.array(Histogram).default([]).describe('packet inter-arrival time histograms, per stream'),
    glitches: z.array(GlitchMark).default([]),
    figures: z.record(z.string(), FigureValue).default({}).describe('free-form named figures, e.g. rtp.lost, ptp.rmsNs'),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.expectations.forEach((e, i) => {
      if (seen.has(e.name)) ctx.addIssue({ code: 'custom', path: ['expectations', i, 'name'], message: `'${e.name}' appears twice in scenario '${s.name}'` });
      seen.add(e.name);
      // A numeric verdict must agree with its own value and limit: a report cannot say pass for 9 ms ≤ 8 ms.
      // (A fail-on-purpose one passes when the limit was broken: detected.)
      if (e.failsOnPurpose && e.verdict !== 'error' && e.verdict !== (e.failsOnPurpose.detected ? 'pass' : 'fail')) {
        ctx.addIssue({ code: 'custom', path: ['expectations', i, 'verdict'], message: `'${e.verdict}' contradicts a fail-on-purpose expectation that was ${e.failsOnPurpose.detected ? '' : 'not '}detected` });
      }
      if (typeof e.value === 'number' && e.verdict !== 'error' && e.limit.equals === undefined && (e.limit.min !== undefined || e.limit.max !== undefined)) {
        const within = (e.limit.min === undefined || e.value >= e.limit.min) && (e.limit.max === undefined || e.value <= e.limit.max);
        if (e.failsOnPurpose ? within && e.failsOnPurpose.detected : within !== (e.verdict === 'pass')) {
          ctx.addIssue({ code: 'custom', path: ['expectations', i, 'verdict'], message: `'${e.verdict}' contradicts value ${e.value} against limit ${JSON.stringify(e.limit)}` });
        }
      }
      if (e.value === null && e.verdict !== 'error') ctx.addIssue({ code: 'custom', path: ['expectations', i, 'value'], message: `null (not measured) needs verdict 'error', not '${e.verdict}'` });
    });
    const worst = s.error !== undefined || s.expectations.some((e) => e.verdict === 'error') ? 'error' : s.expectations.some((e) => e.verdict === 'fail') ? 'fail' : 'pass';
    if (s.verdict !== worst) ctx.addIssue({ code: 'custom', path: ['verdict'], message: `is '${s.verdict}' but its expectations${s.error ? ' and error' : ''} make it '${worst}'` });
    if (s.verdict === 'pass' && s.expectations.length === 0) ctx.addIssue({ code: 'custom', path: ['expectations'], message: 'a scenario with no expectations cannot pass: it checked nothing' });
  });
export type ScenarioResult = z.infer<typeof ScenarioResult>;
export type ScenarioResultInput = z.input<typeof ScenarioResult>;

export const FieldFailureRow = z
  .object({
    failure: z.string().min(1).describe('what breaks in the field, e.g. "late packets into Dante"'),
    note: z.string().min(1).describe('its source in FIELD-NOTES.md, e.g. "bondagit/aes67-linux-daemon#227"'),
    scenario: z.string().min(1).describe('name of the scenario in this report that judges it'),
    verdict: Verdict,
    figure: z.object({ name: z.string(), value: FigureValue, unit: z.string() }).strict().describe('the measured figure that decided the verdict'),
    detail: z.string().optional(),
  })
  .strict();
export type FieldFailureRow = z.infer<typeof FieldFailureRow>;

export const Peer = z
  .object({ name: z.string(), available: z.boolean(), version: z.string().optional(), detail: z.string() })
  .strict()
  .describe("one of lab/cli/doctor.ts doctor()'s capabilities");

export const RunMetadata = z
  .object({
    startedAt: z.iso.datetime({ offset: true }),
    finishedAt: z.iso.datetime({ offset: true }).optional(),
    command: z.string().optional().describe('the command line that produced the run'),
    project: z.object({ name: z.string(), version: z.string() }).strict().describe('from package.json'),
    git: z.object({ commit: z.string().nullable(), dirty: z.boolean().nullable() }).strict().describe('null when not in a git checkout'),
    host: z.object({ hostname: z.string(), os: z.string(), arch: z.string(), node: z.string(), cpus: z.number().int() }).strict(),
    peers: z.array(Peer),
  })
  .strict();
export type RunMetadata = z.infer<typeof RunMetadata>;

export const Report = z
  .object({
    schema: z.literal('aes67-lab/report'),
    schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
    run: RunMetadata,
    scenarios: z.array(ScenarioResult),
    fieldFailures: z.array(FieldFailureRow).default([]).describe('the field-failure matrix; empty unless the run covered scenarios/field'),
  })
  .strict()
  .superRefine((r, ctx) => {
    const names = new Map<string, number>();
    r.scenarios.forEach((s, i) => {
      if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: ['scenarios', i, 'name'], message: `'${s.name}' is also scenarios[${names.get(s.name)}]` });
      names.set(s.name, i);
    });
    r.fieldFailures.forEach((f, i) => {
      if (!names.has(f.scenario)) ctx.addIssue({ code: 'custom', path: ['fieldFailures', i, 'scenario'], message: `'${f.scenario}' is not a scenario in this report` });
    });
  });
export type Report = z.infer<typeof Report>;
export type ReportInput = z.input<typeof Report>;

/** The JSON Schema of report.json (draft 2020-12), for tools that are not this lab. */
export function reportJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Report, { io: 'input', target: 'draft-2020-12', unrepresentable: 'throw' }) as Record<string, unknown>;
  return {
    $id: 'https://aes67-lab.invalid/report.schema.json',
    title: 'aes67-lab report.json',
    description: `Written by aes67-lab (schemaVersion ${REPORT_SCHEMA_VERSION}); generated from lab/report/schema.ts by lab/report/export-schema.ts. Cross-field rules (verdicts that agree with values and limits, unique names) are checked by the lab, not by this schema.`,
    ...schema,
  };
}
