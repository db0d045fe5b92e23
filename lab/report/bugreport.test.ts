import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sharedCapturesDir } from '../net/pcap/shared-captures.ts';
import { withTempDir, writeUdpCapture } from '../net/test-support.ts';
import { captureCut, planBugReport } from './bugreport.ts';
import { writeReport } from './report-file.ts';
import { fixtureReport } from './test-fixture.ts';

const run = promisify(execFile);
const tshark = spawnSync('tshark', ['--version']).status === 0;
if (!tshark) console.warn('bugreport tests: tshark missing (apt-get install tshark): the capture-cut crossing is skipped');
const ebuCapture = path.join(sharedCapturesDir, 'ebu-list/st2110-30/l16_48000_2ch_1ms.pcap');
if (!existsSync(ebuCapture)) console.warn(`bugreport tests: ${ebuCapture} absent (../shared/captures): the classic-pcap cut is skipped`);

/** Frames tshark reads from a file, and whether it complained. */
function tsharkFrames(file: string): { frames: number; error: string } {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  // tshark run as root says so on stderr; that is not a complaint about the file.
  const error = r.stderr
    .split('\n')
    .filter((l) => l.trim() && !/^Running as user "root"/.test(l))
    .join('\n');
  return { frames: r.stdout.split('\n').filter((l) => l.trim()).length, error };
}

function makeCapture(file: string, packets: number): void {
  writeUdpCapture(
    file,
    Array.from({ length: packets }, (_, i) => ({ sourceIp: '192.168.150.2', destinationIp: '239.69.1.1', sourcePort: 5004, destinationPort: 5004, payload: new Uint8Array(300 + (i % 7) * 100).fill(i & 0xff) })),
  );
}

/** A loopback HTTP server on the ports this helper may use (46000-46999). */
async function statusServer(body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    } else {
      res.writeHead(404);
      res.end('no such page');
    }
  });
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 46000 + ((process.pid * 7 + attempt * 37) % 1000);
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return { url: `http://127.0.0.1:${port}/status`, server };
  }
  throw new Error('no free loopback port in 46000-46999');
}

describe.skipIf(!tshark)('capture cut at a packet boundary', () => {
  it('keeps the longest whole-packet prefix under the cap, as tshark counts it', () => {
    withTempDir((dir) => {
      const file = path.join(dir, 'run.pcapng');
      makeCapture(file, 400);
      const total = statSync(file).size;
      for (const cap of [total - 1, Math.floor(total / 2), 5000, 1000]) {
        const cut = captureCut(file, cap);
        expect(cut.truncated).toBe(true);
        expect(cut.bytes).toBeLessThanOrEqual(cap);
        const prefix = path.join(dir, `cut-${cap}.pcapng`);
        writeFileSync(prefix, readFileSync(file).subarray(0, cut.bytes));
        const clean = tsharkFrames(prefix);
        expect(clean.error, `cap ${cap}`).toBe('');
        expect(clean.frames, `cap ${cap}`).toBe(cut.framesKept);
        // The raw prefix at the cap holds no more whole packets than the cut kept (tshark reads
        // what is whole, then complains about the rest): the cut is the longest possible.
        const raw = path.join(dir, `raw-${cap}.pcapng`);
        writeFileSync(raw, readFileSync(file).subarray(0, cap));
        const rough = tsharkFrames(raw);
        expect(rough.frames, `cap ${cap}`).toBe(cut.framesKept);
      }
      expect(captureCut(file, total)).toEqual({ bytes: total, totalBytes: total, framesKept: 400, truncated: false });
    });
  });

  it.skipIf(!existsSync(ebuCapture))('cuts a classic pcap from ../shared/captures the same way', () => {
    withTempDir((dir) => {
      const cut = captureCut(ebuCapture, 200_000);
      const prefix = path.join(dir, 'ebu.pcap');
      writeFileSync(prefix, readFileSync(ebuCapture).subarray(0, cut.bytes));
      const t = tsharkFrames(prefix);
      expect(t.error).toBe('');
      expect(t.frames).toBe(cut.framesKept);
      expect(cut.framesKept).toBeGreaterThan(100);
    });
  });

  it('a capture damaged mid-packet keeps the whole packets before the damage', () => {
    withTempDir((dir) => {
      const file = path.join(dir, 'run.pcapng');
      makeCapture(file, 50);
      const damaged = path.join(dir, 'damaged.pcapng');
      const bytes = readFileSync(file);
      writeFileSync(damaged, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const cut = captureCut(damaged, 10 * bytes.length);
      expect(cut.damage).toMatch(/truncated/);
      writeFileSync(path.join(dir, 'kept.pcapng'), bytes.subarray(0, cut.bytes));
      const t = tsharkFrames(path.join(dir, 'kept.pcapng'));
      expect(t.error).toBe('');
      expect(t.frames).toBe(cut.framesKept);
      expect(tsharkFrames(damaged).frames).toBe(cut.framesKept);
      // Damage inside a block (a corrupted length) keeps only what is surely whole.
      const corrupt = Buffer.from(bytes);
      const at = captureCut(file, 3000).bytes; // a block boundary
      corrupt.writeUInt32LE(0xfff1, at + 4); // block length, not a multiple of 4
      writeFileSync(damaged, corrupt);
      const c2 = captureCut(damaged, 10 * bytes.length);
      expect(c2.damage).toMatch(/multiple of 4/);
      expect(c2.bytes).toBeLessThanOrEqual(at);
      writeFileSync(path.join(dir, 'kept2.pcapng'), bytes.subarray(0, c2.bytes));
      const t2 = tsharkFrames(path.join(dir, 'kept2.pcapng'));
      expect(t2.error).toBe('');
      expect(t2.frames).toBe(c2.framesKept);
    });
  });
});

describe('aes67-lab bugreport', () => {
  it('prints what it will include with sizes, then writes exactly that, summary.md first (read back with system tar)', async () => {
    await withTempDir(async (dir) => {
      const report = path.join(dir, 'report.json');
      writeReport(report, fixtureReport());
      const capture = path.join(dir, 'run.pcapng');
      makeCapture(capture, 3000);
      const scenario = path.join(dir, 'late-into-dante.yaml');
      writeFileSync(scenario, 'name: late-into-dante-2.5ms\nclock: virtual\nduration: 5s\nseed: 11\n');
      const status = JSON.stringify({ device: 'emulated', locked: false, streams: 2 });
      const { url, server } = await statusServer(status);
      const out = path.join(dir, 'bundle.tar.gz');
      try {
        const { stdout } = await run('npx', ['tsx', 'lab/cli/bin.ts', 'bugreport', '--report', report, '--capture', capture, '--scenario', scenario, '--dut-status', url, '--max-capture-mb', '0.5', '-o', out, '--yes'], { encoding: 'utf8', timeout: 60_000 });
        // The plan, in order, with sizes.
        const planned = [...stdout.matchAll(/^ {2}(\S+)\s+(\d+) bytes/gm)].map((m) => ({ name: m[1], bytes: Number(m[2]) }));
        expect(planned.map((p) => p.name)).toEqual(['summary.md', 'environment/doctor.json', 'environment/system.txt', 'scenario/late-into-dante.yaml', 'report/report.json', 'capture/run.pcapng', 'capture/TRUNCATED.txt', 'dut/status.txt']);
        expect(stdout).toMatch(/note: the capture was cut to 0\.\d\d MiB of \d\.\d\d MiB at a packet boundary/);
        expect(stdout).toMatch(/wrote .*bundle\.tar\.gz/);
        // GNU tar lists the archive: same entries, same order, same sizes.
        const listing = execFileSync('tar', ['-tvzf', out], { encoding: 'utf8' }).trim().split('\n');
        const archived = listing.map((l) => {
          const f = l.trim().split(/\s+/);
          return { name: f[f.length - 1], bytes: Number(f[2]) };
        });
        expect(archived).toEqual(planned);
        const x = path.join(dir, 'x');
        execFileSync('mkdir', ['-p', x]);
        execFileSync('tar', ['-xzf', out, '-C', x]);
        expect(readFileSync(path.join(x, 'report/report.json'), 'utf8')).toBe(readFileSync(report, 'utf8'));
        expect(readFileSync(path.join(x, 'scenario/late-into-dante.yaml'), 'utf8')).toBe(readFileSync(scenario, 'utf8'));
        const cutCapture = readFileSync(path.join(x, 'capture/run.pcapng'));
        expect(cutCapture.length).toBeLessThanOrEqual(0.5 * 2 ** 20);
        expect(cutCapture.equals(readFileSync(capture).subarray(0, cutCapture.length))).toBe(true);
        if (tshark) expect(tsharkFrames(path.join(x, 'capture/run.pcapng')).error).toBe('');
        const summary = readFileSync(path.join(x, 'summary.md'), 'utf8');
        expect(summary.split('\n')[0]).toBe('## aes67-lab: ERROR: 1 of 2 scenarios errored');
        expect(summary).toContain('`capture/run.pcapng`');
        expect(summary).toContain('at a packet boundary');
        expect(readFileSync(path.join(x, 'dut/status.txt'), 'utf8')).toContain(status);
        const doctorJson = JSON.parse(readFileSync(path.join(x, 'environment/doctor.json'), 'utf8'));
        expect(doctorJson.capabilities.map((c: { name: string }) => c.name)).toContain('ptp4l');
        expect(readFileSync(path.join(x, 'environment/system.txt'), 'utf8')).toMatch(/# network interfaces[\s\S]*"lo"/);
      } finally {
        server.close();
      }
    });
  });

  it('without --yes and without a terminal: prints the plan, writes nothing, says how', async () => {
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'b.tar.gz');
      const r = spawnSync('npx', ['tsx', 'lab/cli/bin.ts', 'bugreport', '-o', out], { encoding: 'utf8', input: '' });
      expect(r.status).toBe(1);
      expect(r.stdout).toContain('environment/doctor.json');
      expect(r.stderr).toContain('re-run with --yes');
      expect(existsSync(out)).toBe(false);
      const bad = spawnSync('npx', ['tsx', 'lab/cli/bin.ts', 'bugreport', '--capture', path.join(dir, 'nope.pcapng'), '--yes', '-o', out], { encoding: 'utf8' });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/--capture .*nope\.pcapng: no such file/);
    });
  });

  it('notes an unreachable DUT status and an invalid report instead of failing the bundle', async () => {
    await withTempDir(async (dir) => {
      const { url, server } = await statusServer('{}');
      const port = new URL(url).port;
      await new Promise((r) => server.close(r));
      const report = path.join(dir, 'report.json');
      writeFileSync(report, JSON.stringify({ schema: 'aes67-lab/report', schemaVersion: 1, scenarios: 'none' }));
      const plan = await planBugReport({ report, dutStatus: `http://127.0.0.1:${port}/status`, doctorReport: { host: { os: 'Linux', arch: 'x64', node: 'v20', cpus: 2 }, capabilities: [] } });
      expect(plan.notes.join('\n')).toMatch(/the DUT status could not be fetched from http:\/\/127\.0\.0\.1:\d+\/status/);
      expect(plan.notes.join('\n')).toMatch(/the report does not validate[\s\S]*scenarios: /);
      const summary = plan.entries[0];
      expect(summary.name).toBe('summary.md');
      expect('text' in summary.content && summary.content.text).toMatch(/### Notes/);
    });
  });
});
