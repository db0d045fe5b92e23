// For the HIL runner's live tests: a rig built here — two namespaces (the lab's and the
// DUT's) joined by veth through a bridge (ci/netns.ts), the software DUT (build/driver/
// host/aes67-dut) started in the DUT's namespace with its control endpoint on a Unix
// socket, and a rig file that names them — and the runner run as a child process.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { createNetns, type Netns } from '../../ci/netns.ts';
import { projectRoot } from '../../native/index.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess } from '../dut/dut-client.ts';
import { chrtWorks } from '../dut/test-support.ts';

export const HIL_RUN = path.join(projectRoot, 'ci', 'hil', 'run');
/**
 * The runner's SCHED_FIFO priority in live tests, when chrt works: on a shared 2-core host
 * (load ~10) its event loop otherwise stalls past the DUT's link offset, and lab.pacing
 * rightly calls such a run the lab host's error. Given to the runner as --fifo: it raises
 * itself once loaded (lab/net/real-time-priority.ts), never from exec on.
 */
export const RUNNER_FIFO = chrtWorks ? 20 : undefined;

export interface TestRig {
  net: Netns;
  dut?: DutProcess;
  dir: string;
  lab: { ns: string; address: string };
  dutAddress: string;
  sock: string;
  /** Writes a rig file (overrides merged over the rig this test bench is) and returns its path. */
  writeRig(name: string, overrides?: Record<string, unknown>): string;
  /** `extra`: top-level keys of the DUT's configuration merged over the rig's (e.g. sap: { listen: true }). */
  startDut(device?: Record<string, unknown>, extra?: Record<string, unknown>): Promise<DutProcess>;
  /**
   * Which of the rig's namespaces are no longer the ones it made, or undefined when all are.
   * Names carry a run tag (ci/netns.ts), so a second copy of the same live file makes its own;
   * but a process that deletes ours by name (by hand) leaves the runner, entering the lab's by
   * name, in none. (Namespaces nobody held went away with their veth, the DUT's link too: what
   * the HIL watcher of cf37e2c met. This rig holds its own.)
   */
  replaced(): string | undefined;
  destroy(): Promise<void>;
}

/** `others`: more hosts on the same link (e.g. 'gm' for gear the rig has beside the lab and the DUT). */
export function createTestRig(prefix: string, subnet: number, dir: string, others: string[] = []): TestRig {
  mkdirSync(dir, { recursive: true });
  const net = createNetns({ prefix, hosts: ['lab', 'dut', ...others], subnet });
  const sock = path.join(dir, 'dut.sock');
  let destroyed = false;
  const rig: TestRig = {
    net,
    dir,
    lab: { ns: net.host('lab').ns, address: net.host('lab').address },
    dutAddress: net.host('dut').address,
    sock,
    writeRig(name, overrides = {}) {
      const base: Record<string, unknown> = {
        name: `veth ${prefix}`,
        lab: { interface: 'eth0', netns: net.host('lab').ns, address: net.host('lab').address },
        dut: { kind: 'software-dut', address: net.host('dut').address, control: `unix:${sock}`, ...(rig.dut?.child.pid ? { process: { pid: rig.dut.child.pid, rssGrowthMax: '4MiB' } } : {}) },
        loopback: { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8 },
        ptp: { grandmaster: 'lab' },
        multicast: `239.69.${subnet}`,
        capture: { seconds: 10 },
      };
      const merged = { ...base, ...overrides };
      const file = path.join(dir, `${name}.rig.yaml`);
      writeFileSync(file, stringify(merged));
      return file;
    },
    async startDut(device = {}, extra = {}) {
      const config = {
        interface: 'eth0',
        device: { name: 'aes67-dut (HIL)', inputChannels: 8, outputChannels: 8, ioBufferFrames: 64, linkOffsetFrames: 96, ...device },
        ptp: { domain: 0 },
        sap: { announce: false },
        control: { listen: `unix:${sock}` },
        ...extra,
      };
      const file = path.join(dir, 'dut.json');
      writeFileSync(file, JSON.stringify(config, null, 2));
      rig.dut = await attachDut(net.spawn('dut', DUT_BINARY, ['--config', file]));
      return rig.dut;
    },
    replaced() {
      if (destroyed) throw new Error('replaced(): the rig is destroyed');
      const gone = net.replaced();
      return gone.length === 0 ? undefined : `the network namespaces ${gone.join(', ')} are no longer the ones this test made: another process deleted them by name (and may have made its own of the same names), e.g. by hand or with ip -all netns delete; the runner enters the lab's namespace by name`;
    },
    async destroy() {
      await rig.dut?.stop(2_000);
      destroyed = true;
      net.destroy();
    },
  };
  return rig;
}

export interface RunnerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs ci/hil/run as a child process (bounded by `timeoutMs`: killed after it). With
 * `fifoPriority` the runner takes SCHED_FIFO at that priority for its threads once loaded
 * (--fifo), for runs on a loaded host where a normal-priority lab falls behind its
 * own packets' due times.
 */
export async function runHil(args: string[], timeoutMs: number, fifoPriority?: number): Promise<RunnerResult> {
  // Its own process group: the runner re-runs itself inside the lab's namespace, and a
  // timeout must stop both.
  const child = spawn(HIL_RUN, fifoPriority ? ['--fifo', String(fifoPriority), ...args] : args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out = collect(child);
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, timeoutMs);
  const code = await out.exited;
  clearTimeout(timer);
  return { code, stdout: out.stdout, stderr: out.stderr };
}
