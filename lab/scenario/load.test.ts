import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { projectRoot } from '../../native/index.ts';
import path from 'node:path';
import { withTempDir } from '../net/test-support.ts';
import { loadScenario, loadScenarios } from './load.ts';
import { scenarioJsonSchema } from './schema.ts';
import { InputFileError } from './yaml-source.ts';

const DESIGN_EXAMPLE = `name: dante-8ch-sap-loss
description: a Dante-style stage box over a lossy, jittery network
proves: what the design example says
clock: virtual            # virtual is the only clock
duration: 30s
seed: 7
grandmasters:
  - kind: emulated
    priority1: 100
    events: [{ at: 15s, step: 1ms }]
network: { loss: 0.5%, jitter: { dist: normal, sd: 150us } }
senders:
  - name: stage-box
    kind: dante
    channels: 8
    signal: { sine: 997Hz, level: -20dBFS }
    probe: { channel: 8 }
device: { kind: emulated, rate: 48000, buffer: 64, loopback: true, linkOffset: 3ms }
expect:
  recovery.time: { max: 5s }
  latency.roundTrip: { max: 8ms }
  glitches.equalsLost: { equals: true }
`;

function errorOf(yaml: string): InputFileError {
  return withTempDir((dir) => {
    const file = path.join(dir, 's.yaml');
    writeFileSync(file, yaml);
    try {
      loadScenario(file);
    } catch (e) {
      if (e instanceof InputFileError) return e;
      throw e;
    }
    throw new Error('expected an error');
  });
}

describe('scenario files', () => {
  it('reads the design example into base units', () => {
    const s = withTempDir((dir) => {
      const file = path.join(dir, 's.yaml');
      writeFileSync(file, DESIGN_EXAMPLE);
      return loadScenario(file).scenario;
    });
    expect(s.duration).toBe(30e9);
    expect(s.network.loss).toBeCloseTo(0.005);
    expect(s.network.jitter).toEqual({ dist: 'normal', sd: 150_000 });
    expect(s.grandmasters[0]).toMatchObject({ kind: 'emulated', priority1: 100, priority2: 128, domain: 0, events: [{ at: 15e9, step: 1e6 }] });
    expect(s.senders[0]).toMatchObject({ kind: 'dante', channels: 8, signal: { sine: 997, level: -20, step: 0 }, probe: { channel: 8, degree: 13, level: -6 } });
    expect(s.device).toMatchObject({ kind: 'emulated', rate: 48_000, buffer: 64, linkOffset: 3e6, loopback: true, inputs: 128 });
    expect(s.network.baseDelay).toBe(30_000);
    expect(s.expect['latency.roundTrip']).toEqual({ max: '8ms' });
  });

  it('names the file, line, key and what is allowed', () => {
    const bad = DESIGN_EXAMPLE.replace('kind: dante', 'kind: danté');
    const e = errorOf(bad);
    expect(e.line).toBe(14);
    expect(e.key).toBe('senders[0].kind');
    expect(e.message).toMatch(/s\.yaml:14:11: senders\[0\]\.kind: .*allowed: "aes67", "dante", "ravenna", "pcap"/);
  });

  it('points at a misspelt key instead of ignoring it', () => {
    const e = errorOf(DESIGN_EXAMPLE.replace('buffer: 64', 'bufer: 64'));
    expect(e.line).toBe(18);
    expect(e.message).toMatch(/unknown key 'bufer'/);
  });

  it('explains bad units and bad values', () => {
    expect(errorOf(DESIGN_EXAMPLE.replace('sd: 150us', 'sd: 150')).message).toMatch(/:11:\d+: network\.jitter\.sd: 150 has no unit/);
    expect(errorOf(DESIGN_EXAMPLE.replace('duration: 30s', 'duration: 30 seconds')).message).toMatch(/:5:11: duration: '30 seconds' is not a duration: write a number with ns, us/);
    expect(errorOf(DESIGN_EXAMPLE.replace('rate: 48000,', 'rate: 47000,')).message).toMatch(/device\.rate: sample rate must be one of 44100, 48000/);
    expect(errorOf(DESIGN_EXAMPLE.replace('loss: 0.5%', 'loss: lots')).message).toMatch(/network\.loss: 'lots' is not a percentage/);
    expect(errorOf('name: [unclosed').message).toMatch(/:1:\d+: not valid YAML/);
    expect(errorOf(DESIGN_EXAMPLE.replace('duration: 30s\n', '')).message).toMatch(/:1:1: duration: /);
  });

  it('refuses an unknown metric, naming its line and the allowed metrics', () => {
    const e = errorOf(DESIGN_EXAMPLE.replace('latency.roundTrip: { max: 8ms }', 'latency.rountTrip: { max: 8ms }'));
    expect(e.line).toBe(21);
    expect(e.key).toBe('expect.latency.rountTrip');
    expect(e.message).toMatch(/unknown metric 'latency\.rountTrip'; allowed: latency\.roundTrip, .*glitches\.equalsLost/);
  });

  it('refuses a bound with the wrong unit, pointing at the bound', () => {
    const noUnit = errorOf(DESIGN_EXAMPLE.replace('latency.roundTrip: { max: 8ms }', 'latency.roundTrip: { max: 8 }'));
    expect(noUnit.message).toMatch(/:21:\d+: expect\.latency\.roundTrip\.max: latency\.roundTrip is a duration: 8 has no unit, write e\.g\. 8ms/);
    const boolAsCount = errorOf(DESIGN_EXAMPLE.replace('glitches.equalsLost: { equals: true }', 'glitches.count: { max: 2ms }'));
    expect(boolAsCount.message).toMatch(/expect\.glitches\.count\.max: glitches\.count is a count: write a plain integer/);
    const boolMin = errorOf(DESIGN_EXAMPLE.replace('glitches.equalsLost: { equals: true }', 'glitches.equalsLost: { min: 1 }'));
    expect(boolMin.message).toMatch(/glitches\.equalsLost is true or false: write equals: true/);
  });

  it('refuses a metric this scenario cannot measure', () => {
    const e = errorOf(DESIGN_EXAMPLE.replace('    probe: { channel: 8 }\n', ''));
    expect(e.message).toMatch(/:20:\d+: expect\.latency\.roundTrip: latency\.roundTrip needs a sender with probe/);
    expect(errorOf(DESIGN_EXAMPLE.replace('glitches.equalsLost: { equals: true }', 'dante.status: { equals: subscribed }')).message).toMatch(/dante\.status needs a receiver of kind dante/);
  });

  it('refuses keys that do not apply to a sender kind', () => {
    const e = errorOf(DESIGN_EXAMPLE.replace('    channels: 8\n', '    channels: 8\n    rate: 96kHz\n'));
    expect(e.key).toBe('senders[0].rate');
    expect(e.message).toMatch(/not for a dante sender: a Dante AES67 flow is 48 kHz, L24, 1 ms/);
    expect(errorOf(DESIGN_EXAMPLE.replace('channels: 8', 'channels: 16')).message).toMatch(/senders\[0\]\.channels: a Dante AES67 flow carries at most 8 channels/);
    expect(errorOf(DESIGN_EXAMPLE.replace('clock: virtual ', 'clock: wall ')).message).toMatch(/clock: 'virtual' \(aes67-lab run\) or 'real' \(run only by the HIL runner/);
  });

  it('refuses two scenarios with one name', () => {
    withTempDir((dir) => {
      writeFileSync(path.join(dir, 'a.yaml'), DESIGN_EXAMPLE);
      writeFileSync(path.join(dir, 'b.yaml'), DESIGN_EXAMPLE);
      expect(() => loadScenarios([dir])).toThrow(/b\.yaml:1:1: name: 'dante-8ch-sap-loss' is also the name of .*a\.yaml/);
    });
  });

  it('exports a JSON Schema that describes the keys', () => {
    const schema = scenarioJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['name', 'duration', 'senders', 'device', 'expect']));
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'duration']));
  });

  it('keeps scenarios/scenario.schema.json current (regenerate with: aes67-lab schema > scenarios/scenario.schema.json)', () => {
    const committed = JSON.parse(readFileSync(path.join(projectRoot, 'scenarios', 'scenario.schema.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(scenarioJsonSchema())));
  });
});
