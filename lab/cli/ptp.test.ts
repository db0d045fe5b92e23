// `aes67-lab ptp follow`: bad flags are refused with the flag and the fix, before any socket.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../native/index.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'lab/cli/bin.ts'), 'ptp', 'follow', ...args], {
    cwd: projectRoot, encoding: 'utf8', timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('aes67-lab ptp follow: flags', () => {
  it.each([
    [['--interface', 'lo', '--domain', '128'], /--domain 128: an integer 0-127/],
    [['--interface', 'lo', '--seconds', '-1'], /--seconds -1: a positive number/],
    [['--interface', 'lo', '--transmit-stamp', 'soon'], /--transmit-stamp soon: use kernel, loopback, before, after/],
    [['--domain', '0'], /required option '--interface <if>'/],
    [['--interface', 'a67p-nosuch0', '--seconds', '1'], /a67p-nosuch0/],
    [['--interface', 'lo', '--stop-after-lock', 'soon'], /--stop-after-lock soon: a number of seconds >= 0/],
    [['--interface', 'lo', '--stop-after-lock', '1', '--lock-grandmaster', 'ptp4l'], /--lock-grandmaster ptp4l: a clock identity as ptp4l prints it/],
    [['--interface', 'lo', '--lock-grandmaster', '001dc1.fffe.123456'], /give --stop-after-lock too/],
    [['--interface', 'lo', '--records'], /--records adds the offset records to the JSON summary: give --json too/],
  ])('%j is refused', (args, message) => {
    const r = cli(args as string[]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(message);
  });
});
