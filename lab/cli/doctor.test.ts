import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { doctor } from './doctor.ts';

// The doctor's versions must be what the tools themselves print, read independently here.
function selfReported(cmd: string, args: string[], re: RegExp): string | undefined {
  try {
    return re.exec(execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))?.[1];
  } catch {
    return undefined;
  }
}

describe('aes67-lab doctor', () => {
  it('finds the addon and reports each peer with the version the peer prints', () => {
    const report = doctor();
    const byName = new Map(report.capabilities.map((c) => [c.name, c]));
    expect(byName.get('addon')?.available).toBe(true);
    for (const name of ['addon', 'libpcap', 'netns', 'ptp4l', 'pmc', 'tshark', 'gstreamer', 'ffmpeg', 'cvlc']) {
      expect(byName.has(name), name).toBe(true);
      expect(byName.get(name)?.detail.length, name).toBeGreaterThan(0);
    }
    const tshark = selfReported('tshark', ['--version'], /(\d+\.\d+\.\d+)/);
    expect(byName.get('tshark')?.available).toBe(tshark !== undefined);
    if (tshark) expect(byName.get('tshark')?.version).toBe(tshark);
    const ffmpeg = selfReported('ffmpeg', ['-version'], /ffmpeg version (\S+)/);
    if (ffmpeg) expect(byName.get('ffmpeg')?.version).toBe(ffmpeg);
  });

  it('prints JSON through the CLI and exits 0', () => {
    const out = execFileSync('npx', ['tsx', 'lab/cli/bin.ts', 'doctor', '--json'], { encoding: 'utf8' });
    const parsed = JSON.parse(out) as { capabilities: Array<{ name: string }> };
    expect(parsed.capabilities.map((c) => c.name)).toContain('ptp4l');
  });
});
