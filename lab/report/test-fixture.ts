// A report for the renderer and schema tests: two scenarios (one passing, one failing on
// purpose, one expectation that errored), every kind of series, and a field-failure matrix.
// Its numbers are made by simple formulas here: they exercise rendering, not measurement.
import { judge, scenarioVerdict } from './judge.ts';
import type { ReportInput, ScenarioResultInput } from './schema.ts';

function series(label: string, unit: string, n: number, dt: number, f: (i: number) => number) {
  return { label, unit, t: Array.from({ length: n }, (_, i) => Number((i * dt).toFixed(6))), values: Array.from({ length: n }, (_, i) => Number(f(i).toFixed(3))) };
}

export function fixtureReport(): ReportInput {
  const passing = [
    judge('latency.roundTrip', 4.104, { max: 8 }, 'ms'),
    judge('ptp.lockTime', 2.5, { max: 5 }, 's'),
    judge('glitches', 0, { equals: 0 }, 'count'),
  ];
  const failing = [
    judge('latency.roundTrip', 9.5, { max: 8 }, 'ms', 'Dante window missed by 1.5 ms'),
    judge('ptp.rms', 180, { max: 1000 }, 'ns'),
    judge('glitches', 3, { equals: 0 }, 'count'),
    judge('sap.announced', null, { equals: true }, '', 'SAP listener never bound: EADDRINUSE 239.255.255.255:9875'),
  ];
  const a: ScenarioResultInput = {
    name: 'aes67-1ms-l24-8ch',
    file: 'scenarios/aes67-1ms-l24-8ch.yaml',
    suite: 'smoke',
    seed: 7,
    clock: 'virtual',
    durationS: 10,
    verdict: scenarioVerdict(passing),
    expectations: passing,
    ptpOffset: [series('device slave', 'ns', 200, 0.05, (i) => 20000 * Math.exp(-i / 20) * Math.cos(i / 4) + 30 * Math.sin(i * 1.7))],
    playoutFill: [series('stream 1', 'samples', 200, 0.05, (i) => 144 + 12 * Math.sin(i / 9) + ((i * 37) % 7) - 3)],
    latency: [{ label: 'loopback ch 1-8', mode: 'round-trip', unit: 'ms', values: Array.from({ length: 40 }, (_, i) => 4.1 + ((i * 13) % 9) / 100), stages: [{ stage: 'network', samples: 48, ms: 1 }, { stage: 'playout-buffer', samples: 96, ms: 2 }, { stage: 'io-buffer', samples: 32, ms: 0.667 }, { stage: 'safety-offset', samples: 21, ms: 0.4375 }], residualSamples: 0, confidence: 150 }],
    pitHistogram: [{ label: 'stream 1', binUs: 10, bins: [960, 970, 980, 990, 1000, 1010, 1020, 1030].map((fromUs, i) => ({ fromUs, count: [1, 4, 40, 300, 310, 45, 3, 1][i] })) }],
    glitches: [],
    figures: { 'rtp.lost': 0, 'rtp.packets': 10000, 'ptp.grandmaster': '00-1d-c1-ff-fe-12-34-56', 'sine.snrDb': 92.0 },
  };
  const b: ScenarioResultInput = {
    name: 'late-into-dante-2.5ms',
    file: 'scenarios/field/late-into-dante.yaml',
    suite: 'field',
    seed: 11,
    clock: 'virtual',
    durationS: 5,
    verdict: scenarioVerdict(failing),
    expectations: failing,
    ptpOffset: [series('device slave', 'ns', 100, 0.05, (i) => 150 * Math.sin(i / 3))],
    playoutFill: [series('dante rx', 'samples', 100, 0.05, (i) => (i > 40 && i < 46 ? 0 : 96 - ((i * 11) % 17)))],
    latency: [{ label: 'tx to dante rx', mode: 'one-way', unit: 'ms', values: Array.from({ length: 30 }, (_, i) => 9.3 + ((i * 7) % 5) / 10) }],
    pitHistogram: [{ label: 'device tx', binUs: 10, bins: [{ fromUs: 990, count: 900 }, { fromUs: 1000, count: 95 }, { fromUs: 3500, count: 5 }] }],
    glitches: [
      { t: 2.05, sample: 98400, channel: 0, lengthSamples: 48, kinds: ['dropout', 'prediction-error'], cause: 'late' },
      { t: 2.1, sample: 100800, channel: 3, lengthSamples: 48, kinds: ['dropout'], cause: 'late' },
      { t: 3.7, sample: 177600, channel: 1, lengthSamples: 2, kinds: ['discontinuity', 'phase-jump'] },
    ],
    figures: { 'dante.worstMarginMs': -0.5 },
  };
  return {
    schema: 'aes67-lab/report',
    schemaVersion: 1,
    run: {
      startedAt: '2025-01-01T12:00:00.000Z',
      finishedAt: '2025-01-01T12:00:03.500Z',
      command: 'aes67-lab run scenarios/smoke scenarios/field/late-into-dante.yaml',
      project: { name: 'aes67-lab', version: '0.1.0' },
      git: { commit: '0123456789abcdef0123456789abcdef01234567', dirty: false },
      host: { hostname: 'ci-runner', os: 'Linux 6.1.0', arch: 'x64', node: 'v20.20.2', cpus: 2 },
      peers: [
        { name: 'ptp4l', available: true, version: '3.1.1', detail: 'ptp4l 3.1.1' },
        { name: 'tshark', available: false, detail: 'tshark not found on PATH (install: apt-get install tshark)' },
      ],
    },
    scenarios: [a, b],
    fieldFailures: [
      { failure: 'Late packets into Dante (2 ms window)', note: 'bondagit/aes67-linux-daemon#227', scenario: 'late-into-dante-2.5ms', verdict: 'fail', figure: { name: 'worst packet margin', value: -0.5, unit: 'ms' }, detail: 'variant that delays TX by 2.5 ms: flagged as it should be' },
      { failure: 'SSRC change after a sender reboot', note: 'bondagit/aes67-linux-daemon#95', scenario: 'aes67-1ms-l24-8ch', verdict: 'pass', figure: { name: 'audio resumed after', value: 1, unit: 'ms' } },
    ],
  };
}
