// `aes67-lab doctor`: what this machine can do for the lab — the addon, libpcap, root for
// network namespaces, and each real peer the tests cross with, with its version or the
// reason it is missing. Always exits 0: it reports, it does not judge.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { addonBuilt, addonPath, loadNative } from '../../native/index.ts';

export interface Capability {
  name: string;
  available: boolean;
  version?: string;
  detail: string;
}

export interface DoctorReport {
  host: { os: string; arch: string; node: string; cpus: number };
  capabilities: Capability[];
}

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return { ok: true, out };
  } catch (e) {
    const err = e as { code?: string; stdout?: string; stderr?: string };
    if (err.code === 'ENOENT') return { ok: false, out: `${cmd} not found on PATH` };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}`.trim() || String(e) };
  }
}

function firstMatch(text: string, re: RegExp): string | undefined {
  return re.exec(text)?.[1];
}

function peer(name: string, cmd: string, args: string[], versionRe: RegExp, installHint: string): Capability {
  const r = run(cmd, args);
  if (!r.ok) return { name, available: false, detail: `${r.out.split('\n')[0]} (install: ${installHint})` };
  const version = firstMatch(r.out, versionRe);
  return { name, available: true, version, detail: `${cmd} ${version ?? '(version not printed)'}` };
}

function addon(): Capability {
  if (!addonBuilt()) return { name: 'addon', available: false, detail: `${addonPath} missing: run 'npm run build'` };
  try {
    const native = loadNative();
    return { name: 'addon', available: true, version: native.addonVersion, detail: addonPath };
  } catch (e) {
    return { name: 'addon', available: false, detail: `fails to load: ${(e as Error).message}` };
  }
}

function libpcap(): Capability {
  const candidates = ['/usr/lib/x86_64-linux-gnu/libpcap.so', '/usr/lib/aarch64-linux-gnu/libpcap.so', '/usr/lib/libpcap.so', '/usr/local/lib/libpcap.dylib', '/opt/homebrew/lib/libpcap.dylib'];
  const found = candidates.find((p) => existsSync(p));
  return found
    ? { name: 'libpcap', available: true, detail: found }
    : { name: 'libpcap', available: false, detail: 'libpcap development library not found (install: apt-get install libpcap-dev)' };
}

function rootForNamespaces(): Capability {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) return { name: 'netns', available: false, detail: 'not root: live tests need root to create network namespaces' };
  const ip = run('ip', ['netns', 'list']);
  return ip.ok
    ? { name: 'netns', available: true, detail: 'root, ip netns works' }
    : { name: 'netns', available: false, detail: `ip netns fails: ${ip.out.split('\n')[0]} (install: apt-get install iproute2)` };
}

function gstreamer(): Capability {
  const base = peer('gstreamer', 'gst-launch-1.0', ['--version'], /version (\d+\.\d+\.\d+)/, 'apt-get install gstreamer1.0-tools gstreamer1.0-plugins-good');
  if (!base.available) return base;
  const inspect = run('gst-inspect-1.0', ['rtpL24pay']);
  if (!inspect.ok) return { ...base, available: false, detail: `${base.detail}, but rtpL24pay is missing (install: apt-get install gstreamer1.0-plugins-good)` };
  return { ...base, detail: `${base.detail} with rtpL24pay` };
}

// VLC refuses to run as root, and the SAP crossing runs it as an unprivileged user.
function vlc(): Capability {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const [cmd, args] = asRoot ? ['runuser', ['-u', 'nobody', '--', 'cvlc', '--version']] : ['cvlc', ['--version']];
  const c = peer('cvlc', cmd, args, /VLC (?:media player |version )?(\d+\.\d+\.\d+)/, 'apt-get install vlc-bin vlc-plugin-base');
  return c.available ? { ...c, detail: `cvlc ${c.version}${asRoot ? ' (as user nobody)' : ''}` } : c;
}

export function doctor(): DoctorReport {
  return {
    host: { os: `${os.type()} ${os.release()}`, arch: os.arch(), node: process.version, cpus: os.cpus().length },
    capabilities: [
      addon(),
      libpcap(),
      rootForNamespaces(),
      peer('ptp4l', 'ptp4l', ['-v'], /^(\d+\.\d+(?:\.\d+)?)/m, 'apt-get install linuxptp'),
      peer('pmc', 'pmc', ['-v'], /^(\d+\.\d+(?:\.\d+)?)/m, 'apt-get install linuxptp'),
      peer('tshark', 'tshark', ['--version'], /TShark \(Wireshark\) (\d+\.\d+\.\d+)/, 'apt-get install tshark'),
      gstreamer(),
      peer('ffmpeg', 'ffmpeg', ['-version'], /ffmpeg version (\S+)/, 'apt-get install ffmpeg'),
      vlc(),
    ],
  };
}

export function formatDoctor(report: DoctorReport): string {
  const lines = [`host: ${report.host.os} ${report.host.arch}, node ${report.host.node}, ${report.host.cpus} cpus`];
  const width = Math.max(...report.capabilities.map((c) => c.name.length));
  for (const c of report.capabilities) {
    lines.push(`${c.available ? 'ok     ' : 'missing'}  ${c.name.padEnd(width)}  ${c.detail}`);
  }
  return lines.join('\n');
}
