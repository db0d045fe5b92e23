// The worker thread that judges the returned audio while the run goes on (the glitch
// detector costs ~80 ms of CPU per second of a channel: on the senders' event loop it
// would stall them). Built from the scenario file itself, so nothing but plain data
// crosses the thread boundary; started by window-pool.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { loadScenario } from '../scenario/load.ts';
import { channelSignals } from '../scenario/sender-signal.ts';
import type { PlannedSender, PlannedTx } from './plan.ts';
import { rawRecordingAudio } from '../peers/rtp-subscription.ts';
import { WindowAnalyser, type WindowAudio } from './window-analysis.ts';
import type { WindowHandoff } from './window-pool.ts';

interface Init {
  scenarioFile: string;
  senders: Pick<PlannedSender, 'index' | 'channels'>[];
  transmit: PlannedTx[];
  rate: number;
}

const init = workerData as Init;

// When the runner runs at SCHED_FIFO (so a busy host cannot stall its senders), this thread
// inherited it: its bursts of analysis would then hold a core against the senders' thread
// (FIFO threads of one priority do not share a core). Back to SCHED_OTHER, this thread only.
let tid: string | undefined;
try {
  tid = readlinkSync('/proc/thread-self').split('/').pop()!;
  const policy = readFileSync(`/proc/thread-self/stat`, 'utf8').split(') ')[1]?.split(' ')[38];
  if (policy !== undefined && policy !== '0') execFileSync('chrt', ['-o', '-p', '0', tid], { stdio: 'ignore', timeout: 5_000 });
} catch {
  // Not Linux, or no chrt: the worker keeps the runner's policy.
}
const s = loadScenario(init.scenarioFile).scenario;
const senders = s.senders.map((spec, i) => {
  const channels = init.senders.find((x) => x.index === i)?.channels ?? spec.channels ?? 2;
  return {
    encoding: spec.encoding ?? 'L24',
    signals: spec.kind === 'pcap' ? [] : channelSignals(spec, channels, init.rate, init.scenarioFile),
    ...(spec.probe ? { probeChannel: spec.probe.channel - 1, probeDegree: spec.probe.degree } : {}),
  };
});
const analyser = new WindowAnalyser(init.transmit, senders, init.rate);
// Loaded: the runner may raise its other threads now (lab/net/real-time-priority.ts), leaving this one out.
parentPort!.postMessage({ ready: tid ?? null });
parentPort!.on('message', (m: { id: number; windows: WindowHandoff[] }) => {
  try {
    // Decoded here, not on the runner's main thread (window-pool.ts says why).
    const windows = m.windows.map(({ recording, ...w }): WindowAudio => {
      const a = rawRecordingAudio(recording);
      return { ...w, firstSample: Number(a.firstSample), channels: a.channels, interleaved: a.interleaved };
    });
    parentPort!.postMessage({ id: m.id, result: analyser.analyse(windows) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).stack ?? String(e) });
  }
});
