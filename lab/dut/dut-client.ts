// A client of the software DUT's control endpoint (driver/host/software_dut.hpp): JSON
// over HTTP/1.1 on a loopback port or a Unix socket (a DUT in a network namespace is
// reached through its Unix socket, the file system being shared). Also starts and stops
// the aes67-dut process for tests and the HIL runner.
import { request } from 'node:http';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { projectRoot } from '../../native/index.ts';

/** Where `npm run build` puts the executable. */
export const DUT_BINARY = path.join(projectRoot, 'build', 'driver', 'host', 'aes67-dut');

export interface DutStreamCounters {
  id: string;
  kind: 'rx' | 'tx';
  name?: string;
  destination?: string;
  channels: number[];
  counters: Record<string, number | Record<string, number>>;
}

export interface DutRxStatus extends DutStreamCounters {
  kind: 'rx';
  active: boolean;
  source: 'sdp' | 'sap';
  sap?: string;
  problem?: string;
  senderClocked: boolean;
  activations: number;
  format?: { encoding: string; channels: number; sampleRate: number; payloadType: number; framesPerPacket: number };
  playout: { framesWritten: number; framesPlayed: number; framesMissing: number; framesPriming: number; glitches: number; latePackets: number; earlyPackets: number; fillFrames: number };
  anchoring?: { anchors: number; driftRealigns: number; ssrcRealigns: number; continued: number; transitMinFrames: number; transitMaxFrames: number };
}

export interface DutTxStatus extends DutStreamCounters {
  kind: 'tx';
  format: { encoding: string; channels: number; sampleRate: number; payloadType: number; framesPerPacket: number; mediaclkOffset: number };
  announced: boolean;
  sapUpdates: number;
}

export interface DutPtpStatusJson {
  enabled: boolean;
  tsRefclk: string;
  domain?: number;
  clockIdentity?: string;
  portState?: string;
  servoState?: string;
  locked?: boolean;
  grandmaster?: string | null;
  followedGrandmaster?: string | null;
  offsetNs?: number;
  pathDelayNs?: number;
  frequencyPpb?: number;
  /** The frequency the DUT's PTP time runs at now: the servo's estimate plus its proportional term, or holding over, the master's rate fitted from its Syncs (engine/ptp/master_rate_fit.hpp). */
  clockFrequencyPpb?: number;
  /** First lock, seconds from the PTP slave's start (the DUT's start); null before. */
  lockTimeS?: number | null;
  /** The latest lock's acquisition, seconds from the first Sync sample of its grandmaster the slave took while unlocked until it locked; null before the first lock. */
  lastAcquisitionS?: number | null;
  lockedForS?: number | null;
  /** The servo's lock window (ns): its lock threshold widened to a multiple of the measured time-stamp noise, capped (engine/ptp/ptp_servo.hpp). */
  lockWindowNs?: number;
  /** The offsets' measurement noise the window was widened by (a standard deviation, ns). */
  measurementNoiseNs?: number;
  /** The factor the servo's kp was narrowed by for that noise while locked (ki by its square); 1 pulling in or on quiet stamps. */
  gainScale?: number;
  /** The last acquisition's fit: the offset it left (ns), the share of it that corrects the path delay held while acquiring, the fitted offset's standard error from the samples' scatter, and whether it was stepped (beyond the unlock threshold plus 3 of those errors). */
  acquisitionFit?: { residualNs: number; correctionNs: number; standardErrorNs: number; stepped: boolean };
  counters?: Record<string, number>;
}

export interface DutStatusJson {
  uptimeS: number;
  device: {
    name: string;
    interface: string;
    address: string;
    inputChannels: number;
    outputChannels: number;
    sampleRate: number;
    ioBufferFrames: number;
    linkOffsetFrames: number;
    running: boolean;
    realTimeThread: boolean;
    realTimePriority: boolean;
    rateScalar: number;
    counters: Record<string, number>;
  };
  ptp: DutPtpStatusJson;
  streams: { rx: DutRxStatus[]; tx: DutTxStatus[] };
  sap: { listening: boolean; sessions: Array<{ name: string; origin: string; announcements: number; lastHeardAgoS: number }>; announcer?: Record<string, number> };
  resync: { clockSteps: number; absorbedSteps: number; largestStepNs: number };
  configuration: { file: string; streamsFrom: string; stateFile: string | null; stateProblem: string | null; lastSaveError: string | null };
  control?: Record<string, number | string>;
}

export interface DutResponse {
  status: number;
  contentType: string;
  body: string;
}

export class DutClient {
  private readonly target: { socketPath: string } | { host: string; port: number };

  /** `address`: what aes67-dut prints, "unix:/path" or "http://127.0.0.1:PORT". */
  constructor(
    readonly address: string,
    private readonly timeoutMs = 5_000,
  ) {
    if (address.startsWith('unix:')) this.target = { socketPath: address.slice(5) };
    else {
      const u = new URL(address);
      if (u.protocol !== 'http:') throw new Error(`DUT control address '${address}' is neither unix:/path nor http://host:port`);
      this.target = { host: u.hostname, port: Number(u.port) };
    }
  }

  request(method: string, urlPath: string, body?: string): Promise<DutResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        { ...this.target, method, path: urlPath, timeout: this.timeoutMs, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`DUT control ${method} ${urlPath}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private async json<T>(method: string, urlPath: string, body?: unknown, expect = [200]): Promise<T> {
    const r = await this.request(method, urlPath, body === undefined ? undefined : JSON.stringify(body));
    if (!expect.includes(r.status)) {
      let message = r.body;
      try {
        message = (JSON.parse(r.body) as { error?: string }).error ?? r.body;
      } catch {
        // not JSON: keep the text
      }
      throw new Error(`DUT ${method} ${urlPath}: ${r.status}: ${message}`);
    }
    return (r.body ? JSON.parse(r.body) : undefined) as T;
  }

  status(): Promise<DutStatusJson> {
    return this.json('GET', '/status');
  }
  /** A stream's SDP: a TX stream's as the DUT announces it, an RX stream's as received. */
  async sdp(id: string): Promise<string> {
    const r = await this.request('GET', `/streams/${encodeURIComponent(id)}/sdp`);
    if (r.status !== 200) throw new Error(`DUT GET /streams/${id}/sdp: ${r.status}: ${r.body}`);
    return r.body;
  }
  /** Adds a stream ({kind: 'rx' | 'tx', ...the configuration file's keys}); returns its id. */
  async addStream(spec: Record<string, unknown> & { kind: 'rx' | 'tx' }): Promise<string> {
    return (await this.json<{ id: string }>('POST', '/streams', spec, [201])).id;
  }
  async removeStream(id: string): Promise<void> {
    await this.json('DELETE', `/streams/${encodeURIComponent(id)}`, undefined, [204]);
  }
}

/** A running aes67-dut: its control client, its output so far, and a clean stop. */
export interface DutProcess {
  child: ChildProcess;
  client: DutClient;
  readonly stdout: string;
  readonly stderr: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Output and exit of a child, collected as it runs. */
export function collect(child: ChildProcess) {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
  };
}

/** Waits for a started aes67-dut to print its control address (or to fail). */
export async function attachDut(child: ChildProcess, timeoutMs = 15_000): Promise<DutProcess> {
  const out = collect(child);
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`aes67-dut printed no control address within ${timeoutMs} ms\nstdout: ${out.stdout}\nstderr: ${out.stderr}`)), timeoutMs);
    const check = () => {
      const m = out.stdout.match(/control on (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    void out.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`aes67-dut exited with ${code} before it was ready\nstdout: ${out.stdout}\nstderr: ${out.stderr}`));
    });
    check();
  });
  return {
    child,
    client: new DutClient(address),
    get stdout() {
      return out.stdout;
    },
    get stderr() {
      return out.stderr;
    },
    async stop(graceMs = 5_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await out.exited;
      clearTimeout(timer);
      return code;
    },
  };
}
