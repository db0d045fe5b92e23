// Live capture by Wireshark's dumpcap in its own process: the kernel's time stamp on every
// frame (so a packet interval measured from the file is the wire's, not the moment a busy
// lab's event loop got to it, as with the in-process capture in live-capture.ts), no work
// on the lab's thread, and libpcap's own drop count. The HIL runner's rig capture uses it
// when dumpcap is installed (Debian: wireshark-common, which tshark brings).
import { spawn, spawnSync } from 'node:child_process';

export interface DumpcapOptions {
  interface: string;
  /** BPF capture filter. */
  filter: string;
  seconds: number;
  output: string;
  maxPackets?: number;
  /** Ends the capture early; the file is closed cleanly. */
  signal?: AbortSignal;
}

export interface DumpcapResult {
  packets: number;
  /** Frames libpcap or the kernel dropped (the capture is missing them, not the wire). */
  dropped: number;
  /** dumpcap's own summary line. */
  summary: string;
}

const STARTUP_MARGIN_MS = 250;

export function dumpcapAvailable(): boolean {
  return spawnSync('dumpcap', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Starts dumpcap; resolves `started` once it captures, `done` when its file is complete. */
export function startDumpcap(o: DumpcapOptions, startTimeoutMs = 10_000): { started: Promise<void>; done: Promise<DumpcapResult> } {
  if (!(o.seconds > 0 && o.seconds <= 86400)) throw new RangeError(`capture seconds ${o.seconds}: give 0 < seconds ≤ 86400`);
  const args = ['-i', o.interface, '-f', o.filter, '-a', `duration:${Math.ceil(o.seconds)}`, '-w', o.output];  // pcapng is dumpcap's default
  if (o.maxPackets !== undefined) args.push('-c', String(o.maxPackets));
  const child = spawn('dumpcap', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let onStarted: () => void = () => {};
  let onFailed: (e: Error) => void = () => {};
  const started = new Promise<void>((resolve, reject) => {
    onStarted = resolve;
    onFailed = reject;
  });
  const startTimer = setTimeout(() => {
    onFailed(new Error(`dumpcap on ${o.interface} did not start capturing within ${startTimeoutMs} ms: ${stderr.trim() || 'no output'}`));
    child.kill('SIGKILL');
  }, startTimeoutMs);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    // Bounded: dumpcap says a few lines (and one per interval without -q); keep the last 8 KB.
    stderr = (stderr + d).slice(-8192);
    if (/Capturing on /.test(stderr)) {
      clearTimeout(startTimer);
      // dumpcap says so a little before frames reach it: 4-14 ms here (the first datagrams
      // sent at once were missing from the file); 250 ms leaves room on a loaded host.
      setTimeout(onStarted, STARTUP_MARGIN_MS);
    }
  });
  const stop = () => child.kill('SIGTERM');
  if (o.signal?.aborted) stop();
  o.signal?.addEventListener('abort', stop, { once: true });
  const done = new Promise<DumpcapResult>((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(startTimer);
      onFailed(e);
      reject(new Error(`dumpcap: ${e.message} (install wireshark-common)`));
    });
    child.on('exit', (code, sig) => {
      clearTimeout(startTimer);
      o.signal?.removeEventListener('abort', stop);
      const captured = /Packets captured: (\d+)/.exec(stderr) ?? /Packets: (\d+)/.exec(stderr);
      const drops = /received\/dropped on interface '[^']*': \d+\/(\d+)/.exec(stderr);
      if ((code !== 0 && sig !== 'SIGTERM') || !captured) {
        const e = new Error(`dumpcap on ${o.interface} ended ${sig ? `by ${sig}` : `with exit ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' / ') || 'no output'}`);
        onFailed(e);
        reject(e);
        return;
      }
      resolve({ packets: Number(captured[1]), dropped: drops ? Number(drops[1]) : 0, summary: stderr.trim().split('\n').at(-1) ?? '' });
    });
  });
  // Either may be left unawaited when the other fails first: never an unhandled rejection.
  started.catch(() => {});
  done.catch(() => {});
  return { started, done };
}
