import { defineConfig } from 'vitest/config';

// Two projects. `unit`: deterministic tests (virtual time, files, codecs, captures) in
// parallel. `live`: tests on real sockets in real time — namespaces, ptp4l, GStreamer,
// ffmpeg, VLC, loopback pacing — one file at a time, so they never starve each other of
// the 2 cores CI has (their verdicts depend on timing). `npm test` runs unit, then live.
// A new live test is named *.live.test.ts (older ones are listed by name here).
export const LIVE_TESTS = [
  '**/*.live.test.ts',
  '**/*-live.test.ts',
  'ci/netns.test.ts',
  'lab/cli/capture.test.ts',
  'lab/cli/emulate-peers.test.ts',
  'lab/impair/netem.test.ts',
  'lab/impair/udp-relay.test.ts',
  'lab/net/lab-transport.test.ts',
  'lab/net/rtsp.test.ts',
  'lab/peers/grandmaster-timescale.test.ts',
  'lab/peers/ptp4l-*.test.ts',
  'lab/ptp/*ptp4l*.test.ts',
  'lab/replay/replay.test.ts',
];

// Soaks run for minutes to hours, never in `npm test`: `npm run soak` runs the virtual ones
// (ci/soak.ts), `npm run soak:real` the real-time ones, named *.soak.test.ts (project `soak`).
export const SOAK_TESTS = ['**/*.soak.test.ts'];

const ALL_TESTS = ['lab/**/*.test.ts', 'native/**/*.test.ts', 'ci/**/*.test.ts', 'test/**/*.test.ts'];

export default defineConfig({
  test: {
    // Live tests build namespaces and start real peers: give them room, but every test
    // still bounds itself.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The C++ addon and the network namespaces are process-wide; forks keep tests apart.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ALL_TESTS, exclude: ['**/node_modules/**', ...LIVE_TESTS, ...SOAK_TESTS] } },
      { extends: true, test: { name: 'live', include: LIVE_TESTS, exclude: ['**/node_modules/**', ...SOAK_TESTS], fileParallelism: false } },
      { extends: true, test: { name: 'soak', include: SOAK_TESTS, exclude: ['**/node_modules/**'], fileParallelism: false, testTimeout: 600_000 } },
    ],
  },
});
