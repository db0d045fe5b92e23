// The main thread's side of window-worker.ts: hands it windows of returned audio as the
// receivers recorded them (payload blocks, their buffers moved, not copied; the worker
// decodes them) and collects the results in order. Decoding 4 streams' 5.5 s windows on the
// main thread stalled the senders ~20 ms at every window (lab.stalls.workMs window-decode).
import { Worker } from 'node:worker_threads';
import type { PlannedSender, PlannedTx } from './plan.ts';
import type { RawRecording } from '../peers/rtp-subscription.ts';
import type { WindowAudio, WindowResult } from './window-analysis.ts';

/** A window as the runner hands it over: the receiver's raw recording in place of the decoded audio. */
export type WindowHandoff = Omit<WindowAudio, 'interleaved' | 'firstSample' | 'channels'> & { recording: RawRecording };

const workerUrl = new URL('./window-worker.ts', import.meta.url).href;

export class WindowPool {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: WindowResult) => void; reject: (e: Error) => void }>();
  private failure?: Error;
  private stderrTail = '';
  /** Resolves once the worker has loaded (with its thread id on Linux, null elsewhere). */
  readonly ready: Promise<string | null>;
  private onReady?: (tid: string | null) => void;

  constructor(scenarioFile: string, senders: PlannedSender[], transmit: PlannedTx[], rate: number) {
    // The worker is plain JavaScript until tsx is registered in it.
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(workerUrl)}); })`;
    this.worker = new Worker(boot, {
      eval: true,
      workerData: { scenarioFile, senders: senders.map((x) => ({ index: x.index, channels: x.channels })), transmit, rate },
      // Its output is kept (and passed on): a worker that dies says why in the run's error.
      stdout: false,
      stderr: true,
    });
    this.worker.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
    });
    this.ready = new Promise((resolve, reject) => {
      this.onReady = resolve;
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the window analysis worker exited (${code}) before it was ready${this.stderrTail ? `: ${this.stderrTail.trim().split('\n').slice(-6).join(' | ')}` : ''}`)));
    });
    this.ready.catch(() => {});
    this.worker.on('message', (m: { id: number; result?: WindowResult; error?: string; ready?: string | null }) => {
      if ('ready' in m) return this.onReady?.(m.ready ?? null);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`window analysis failed: ${m.error}`));
      else p.resolve(m.result!);
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => {
      if (this.pending.size > 0 || code !== 0) this.fail(new Error(`the window analysis worker exited (${code}) with ${this.pending.size} windows pending${this.stderrTail ? `; its last output: ${this.stderrTail.trim().split('\n').slice(-6).join(' | ')}` : ''}`));
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  analyse(windows: WindowHandoff[]): Promise<WindowResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(
        { id, windows },
        windows.flatMap((w) => w.recording.blocks.flatMap((b) => [b.bytes.buffer as ArrayBuffer, b.filled.buffer as ArrayBuffer])),
      );
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
