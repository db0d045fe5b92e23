import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['lab/**/*.test.ts', 'native/**/*.test.ts', 'ci/**/*.test.ts', 'test/**/*.test.ts'],
    // Live tests build namespaces and start real peers: give them room, but every test
    // still bounds itself.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The C++ addon and the network namespaces are process-wide; forks keep tests apart.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
