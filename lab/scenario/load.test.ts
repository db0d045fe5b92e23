import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { projectRoot } from '../../native/index.ts';
import path from 'node:path';
import { withTempDir } from '../net/test-support.ts';
import { loadScenario, loadScenarios } from './load.ts';
import { scenarioJsonSchema } from './schema.ts';
import { InputFileError } from './yaml-source.ts';

const DESIGN_EXAMPLE = `name: dante-8ch-sap-loss
clock: virtual            # virtual | real
duration: 30s
seed: 7
grandmasters:
  - kind: emulated        # emulated | ptp4l
    priority1: 100
    events: [{ at: 15s, step: 1ms }]
network: { loss: 0.5%, jitter: { dist: normal, sd: 150us } }
senders:
  - name: stage-box
    kind: dante
    channels: 8
    signal: { sine: 997Hz, level: -20dBFS }
device: { kind: emulated, rate: 48000, buffer: 64, loopback: true, linkOffset: 3ms }
expect:
  ptp.lockTime: { max: 5s }
  latency.roundTrip: { max: 8ms }
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
    expect(s.senders[0]).toMatchObject({ kind: 'dante', channels: 8, rate: 48_000, ptime: 1e6, signal: { sine: 997, level: -20 } });
    expect(s.device).toMatchObject({ kind: 'emulated', rate: 48_000, buffer: 64, linkOffset: 3e6, loopback: true, inputs: 128 });
    expect(s.expect['ptp.lockTime']).toEqual({ max: '5s' });
  });

  it('names the file, line, key and what is allowed', () => {
    const bad = DESIGN_EXAMPLE.replace('kind: dante', 'kind: danté');
    const e = errorOf(bad);
    expect(e.line).toBe(12);
    expect(e.key).toBe('senders[0].kind');
    expect(e.message).toMatch(/s\.yaml:12:11: senders\[0\]\.kind: .*allowed: "aes67", "dante", "ravenna", "pcap"/);
  });

  it('points at a misspelt key instead of ignoring it', () => {
    const e = errorOf(DESIGN_EXAMPLE.replace('buffer: 64', 'bufer: 64'));
    expect(e.line).toBe(15);
    expect(e.message).toMatch(/unknown key 'bufer'/);
  });

  it('explains bad units and bad values', () => {
    expect(errorOf(DESIGN_EXAMPLE.replace('sd: 150us', 'sd: 150')).message).toMatch(/:9:\d+: network\.jitter\.sd: 150 has no unit/);
    expect(errorOf(DESIGN_EXAMPLE.replace('duration: 30s', 'duration: 30 seconds')).message).toMatch(/:3:11: duration: '30 seconds' is not a duration: write a number with ns, us/);
    expect(errorOf(DESIGN_EXAMPLE.replace('rate: 48000', 'rate: 47000')).message).toMatch(/device\.rate: sample rate must be one of 44100, 48000/);
    expect(errorOf(DESIGN_EXAMPLE.replace('loss: 0.5%', 'loss: lots')).message).toMatch(/network\.loss: 'lots' is not a percentage/);
    expect(errorOf('name: [unclosed').message).toMatch(/:1:\d+: not valid YAML/);
    expect(errorOf(DESIGN_EXAMPLE.replace('duration: 30s\n', '')).message).toMatch(/:1:1: duration: /);
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
