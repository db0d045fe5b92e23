// Turning a measured value and a scenario's limit into an expectation with its verdict,
// and a scenario's verdict from its expectations: the runner calls these so every verdict
// in a report follows one rule (the schema rejects a report that breaks it).
import type { Expectation, Limit, Verdict } from './schema.ts';

export function judge(name: string, value: number | string | boolean | null, limit: Limit, unit: string, message?: string): Expectation {
  const e: Expectation = { name, value, limit, unit, verdict: verdictOf(value, limit) };
  if (message !== undefined) e.message = message;
  return e;
}

function verdictOf(value: number | string | boolean | null, limit: Limit): Verdict {
  if (value === null || (typeof value === 'number' && !Number.isFinite(value))) return 'error';
  if (limit.equals !== undefined) return value === limit.equals ? 'pass' : 'fail';
  if (limit.min === undefined && limit.max === undefined) {
    throw new Error(`judge: limit ${JSON.stringify(limit)} has no min, max or equals to judge by; give the verdict yourself`);
  }
  if (typeof value !== 'number') throw new Error(`judge: a ${typeof value} value cannot be compared with min/max`);
  return (limit.min === undefined || value >= limit.min) && (limit.max === undefined || value <= limit.max) ? 'pass' : 'fail';
}

/**
 * A fail-on-purpose expectation (the scenario breaks the limit on purpose, to show the lab
 * notices): pass when the limit was broken — and, given a reason, the message names it —
 * fail when the lab measured it within the limit (the failure went unnoticed).
 */
export function judgeOnPurpose(e: Expectation, reason: string | true): Expectation {
  if (e.verdict === 'error') return { ...e, failsOnPurpose: { ...(reason === true ? {} : { reason }), detected: false } };
  const broken = e.verdict === 'fail';
  const named = reason === true || (e.message ?? '').toLowerCase().includes(reason.toLowerCase());
  const detected = broken && named;
  const limit = { ...e.limit, text: `must break ${limitText(e.limit, e.unit)}${reason === true ? '' : ` (${reason})`}` };
  const why = !broken ? `not detected: the scenario breaks this on purpose and the lab measured it within the limit` : !named ? `broken, but not for the reason the scenario makes ('${reason}')` : 'broken on purpose, and detected';
  return { ...e, limit, verdict: detected ? 'pass' : 'fail', message: e.message ? `${why}: ${e.message}` : why, failsOnPurpose: { ...(reason === true ? {} : { reason }), detected } };
}

/** error if the run or any expectation errored, else fail if any failed, else pass. */
export function scenarioVerdict(expectations: Pick<Expectation, 'verdict'>[], error?: string): Verdict {
  if (error !== undefined || expectations.some((e) => e.verdict === 'error')) return 'error';
  return expectations.some((e) => e.verdict === 'fail') ? 'fail' : 'pass';
}

const trim = (v: number) => String(Number(v.toPrecision(6)));

/** "≤ 8 ms", "1 … 5 s", "= 0" (a count needs no unit): how a limit reads in a table or a failure message. */
const unitSuffix = (unit: string) => (unit && unit !== 'count' ? ` ${unit}` : '');

export function limitText(limit: Limit, unit: string): string {
  const u = unitSuffix(unit);
  if (limit.text !== undefined) return limit.text;
  if (limit.equals !== undefined) return `= ${typeof limit.equals === 'number' ? trim(limit.equals) : String(limit.equals)}${u}`;
  if (limit.min !== undefined && limit.max !== undefined) return `${trim(limit.min)} … ${trim(limit.max)}${u}`;
  if (limit.max !== undefined) return `≤ ${trim(limit.max)}${u}`;
  return `≥ ${trim(limit.min as number)}${u}`;
}

export function valueText(value: Expectation['value'], unit: string): string {
  if (value === null) return 'not measured';
  const v = typeof value === 'number' ? trim(value) : String(value);
  return typeof value === 'number' ? `${v}${unitSuffix(unit)}` : v;
}

/** The run's verdict: the worst scenario's; a run with no scenarios checked nothing, which is an error. */
export function runVerdict(scenarios: { verdict: Verdict }[]): Verdict {
  if (scenarios.length === 0) return 'error';
  if (scenarios.some((s) => s.verdict === 'error')) return 'error';
  return scenarios.some((s) => s.verdict === 'fail') ? 'fail' : 'pass';
}

/** "1 of 2 scenarios failed, 1 errored" / "all 3 scenarios passed". */
export function runHeadline(scenarios: { verdict: Verdict }[]): string {
  const n = scenarios.length;
  if (n === 0) return 'no scenarios ran';
  const failed = scenarios.filter((s) => s.verdict === 'fail').length;
  const errored = scenarios.filter((s) => s.verdict === 'error').length;
  if (failed === 0 && errored === 0) return n === 1 ? 'the scenario passed' : `all ${n} scenarios passed`;
  const parts = [];
  if (failed) parts.push(`${failed} of ${n} scenario${n === 1 ? '' : 's'} failed`);
  if (errored) parts.push(failed ? `${errored} errored` : `${errored} of ${n} scenario${n === 1 ? '' : 's'} errored`);
  return parts.join(', ');
}
