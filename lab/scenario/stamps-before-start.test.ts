// The device's packet stamps while it waits for 16 senders and PTP lock before its start
// (16 streams x 1000 packets/s x ~5 s) are not measured. They once filled its 65,536-stamp
// log, and what it dropped then made the run's gap measurement "not measured" (the 1 h
// 16-stream soak errored: audio.mismatched: "the device's stamp logs overflowed (18608
// stamps dropped)"); drops before the start were then reported apart. Now the runner drains
// the log every slice before the start as after it, and the log holds a slice's stamps
// (device-under-test.ts packetLogCapacity: 4096 here): nothing is dropped at all.
import { describe, expect, it } from 'vitest';
import { runScenario } from './runner.ts';
import { scenarioSchema } from './schema.ts';
import { parseYamlWith } from './yaml-source.ts';

const senders = Array.from({ length: 16 }, (_, i) => `  - { name: s${i + 1}, kind: aes67, channels: 8${i === 15 ? ', probe: { channel: 8 }' : ''} }`).join('\n');
const YAML = `name: stamps-before-start
description: 16 AES67 senders x 8 channels through the device, with PTP, just past lock
proves: the stamps dropped before the device's start are not counted as gaps in its measurement
duration: 8s
grandmasters: [{ name: gm }]
senders:
${senders}
device: { inputs: 128, outputs: 128, buffer: 64, linkOffset: 2ms }
expect:
  audio.mismatched: { equals: 0 }
  rtp.device.lost: { equals: 0 }
`;

describe('stamps before the device starts', () => {
  it('are drained slice by slice: none dropped, before the start or after, and the run measured', () => {
    const file = 'lab/scenario/stamps-before-start.test.ts';
    const r = runScenario({ file, scenario: parseYamlWith(file, YAML, scenarioSchema) });
    expect(r.error).toBeUndefined();
    expect(r.figures['device.stampLogDroppedBeforeStart']).toBeUndefined();
    expect(r.figures['device.stampLogDropped']).toBeUndefined();
    expect(r.expectations.map((e) => `${e.name} ${e.verdict}${e.message ? `: ${e.message}` : ''}`)).toEqual(['audio.mismatched pass', 'rtp.device.lost pass']);
  }, 120_000);
});
