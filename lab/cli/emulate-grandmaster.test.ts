import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../native/index.ts';
import { grandmasterOptionsFromFlags, parseGrandmasterEvent, syncStampSummary } from './emulate-grandmaster.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'lab/cli/bin.ts'), 'emulate', 'grandmaster', ...args], { cwd: projectRoot, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('aes67-lab emulate grandmaster: flags', () => {
  it('reads scripted events with units', () => {
    expect(parseGrandmasterEvent('10:stop-announcing')).toEqual({ atNs: 10e9, kind: 'stop-announcing' });
    expect(parseGrandmasterEvent('500ms:step=+1ms')).toEqual({ atNs: 0.5e9, kind: 'step', ns: 1e6 });
    expect(parseGrandmasterEvent('2:step=-250us')).toEqual({ atNs: 2e9, kind: 'step', ns: -250e3 });
    expect(parseGrandmasterEvent('3s:frequency=-12.5ppm')).toEqual({ atNs: 3e9, kind: 'frequency', ppm: -12.5 });
    expect(parseGrandmasterEvent('4:follow-up=late:20ms')).toEqual({ atNs: 4e9, kind: 'follow-up', mode: 'late', lateNs: 20e6 });
    expect(parseGrandmasterEvent('4:follow-up=missing')).toEqual({ atNs: 4e9, kind: 'follow-up', mode: 'missing' });
    expect(parseGrandmasterEvent('5:clock-class=6')).toEqual({ atNs: 5e9, kind: 'clock-class', clockClass: 6 });
    expect(parseGrandmasterEvent('6:priority1=99')).toEqual({ atNs: 6e9, kind: 'priority', priority1: 99 });
    expect(parseGrandmasterEvent('7:silence')).toEqual({ atNs: 7e9, kind: 'silence' });
    for (const [bad, why] of [
      ['stop-announcing', /no AT:/],
      ['x:silence', /"x" is not a time/],
      ['1:step=soon', /step needs a duration/],
      ['1:clock-class=300', /clock-class needs an integer 0\.\.255/],
      ['1:follow-up=late', /late:DURATION/],
      ['1:dance', /unknown action "dance"/],
      ['1:silence=1', /takes no value/],
    ] as const) {
      expect(() => parseGrandmasterEvent(bad)).toThrow(why);
    }
  });

  it('names the flag and what is allowed', () => {
    const base = { interface: 'eth0', profile: 'aes67', event: [] as string[] };
    expect(() => grandmasterOptionsFromFlags({ ...base, interface: undefined })).toThrow(/--interface IF is required/);
    expect(() => grandmasterOptionsFromFlags({ ...base, domain: '128' })).toThrow(/--domain 128: must be an integer 0\.\.127/);
    expect(() => grandmasterOptionsFromFlags({ ...base, priority1: '1.5' })).toThrow(/--priority1 1\.5: must be an integer 0\.\.255/);
    expect(() => grandmasterOptionsFromFlags({ ...base, clockClass: '-1' })).toThrow(/--clock-class -1/);
    expect(() => grandmasterOptionsFromFlags({ ...base, profile: 'dante' })).toThrow(/--profile dante: must be one of aes67, ravenna/);
    expect(() => grandmasterOptionsFromFlags({ ...base, twoStep: true, oneStep: true })).toThrow(/choose one/);
    expect(() => grandmasterOptionsFromFlags({ ...base, seconds: '0' })).toThrow(/--seconds 0/);
    expect(grandmasterOptionsFromFlags({ ...base, domain: '3', oneStep: true, seconds: '2.5', event: ['1:silence'] })).toMatchObject({ domain: 3, twoStep: false, seconds: 2.5, script: [{ atNs: 1e9, kind: 'silence' }] });
  });

  it('says where the Syncs\' times came from, and what to check when the interface gave no transmit stamp', () => {
    expect(syncStampSummary({ kernelStamps: 80, loopbackStamps: 0, afterSendStamps: 0 }, 'eth0')).toBe('  Sync time stamps: 80 kernel transmit, 0 looped-back copy, 0 read after send()');
    const late = syncStampSummary({ kernelStamps: 78, loopbackStamps: 0, afterSendStamps: 2 }, 'enp3s0');
    expect(late).toMatch(/^  Sync time stamps: 78 kernel transmit, 0 looped-back copy, 2 read after send\(\) — enp3s0 gave no transmit stamp within 20 ms/);
    expect(late).toContain('`ethtool -T enp3s0`');
  });

  it('exits with the error on stderr before touching the network', () => {
    const r = cli(['--interface', 'lo', '--priority2', '999']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/error: --priority2 999: must be an integer 0\.\.255/);
    const missing = cli(['--interface', 'a67g-none0', '--seconds', '1']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--interface a67g-none0: .*(No such device|no IPv4)/);
  });
});
