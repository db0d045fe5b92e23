// `aes67-lab replay FILE [--virtual | --to IP:PORT] [--map A=B] [--ssrc N] [--rebase] [--loop N]`
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { loadNative } from '../../native/index.ts';
import { analyzeCapture } from '../analyze/analyze-capture.ts';
import { CaptureFormatError } from '../net/pcap/reader.ts';
import { replayRealtime } from '../replay/replay-realtime.ts';
import { replayVirtual } from '../replay/replay-virtual.ts';
import type { ReplayOptions } from '../replay/replay-source.ts';

/** TAI − UTC since 2017 (IERS Bulletin C); PTP time is TAI. */
const DEFAULT_TAI_OFFSET_S = 37;

function parseMap(values: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const v of values) {
    const m = /^([\d.]*(?::\d+)?)=([\d.]*(?::\d+)?)$/.exec(v);
    if (!m || !m[1] || !m[2]) throw new Error(`--map ${v}: write FROM=TO with ip, ip:port or :port, e.g. 239.69.1.1:5004=127.0.0.1:6000`);
    map.set(m[1], m[2]);
  }
  return map;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay the UDP traffic of a capture: in virtual time (native VirtualNetwork) or in real time over a socket')
    .argument('<file>', 'pcap or pcapng capture')
    .option('--virtual', 'replay into the native VirtualNetwork in virtual time (deterministic) and report what was delivered')
    .option('--to <ip:port>', 'send everything to this destination')
    .option('--map <from=to...>', 'rewrite destinations (ip, ip:port or :port)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--port <port...>', 'replay only datagrams to these destination ports')
    .option('--ssrc <n>', 'rewrite the SSRC of every RTP packet')
    .option('--rebase', 'rebase RTP timestamps to the current PTP time (host clock + TAI offset)')
    .option('--tai-offset <s>', 'TAI − UTC used by --rebase', String(DEFAULT_TAI_OFFSET_S))
    .option('--loop <n>', 'play the capture n times back to back', '1')
    .option('--speed <x>', 'real-time speed factor', '1')
    .option('--bind <ip>', 'local address (and multicast interface) to send from')
    .action(async (file: string, opts: { virtual?: boolean; to?: string; map: string[]; port?: string[]; ssrc?: string; rebase?: boolean; taiOffset: string; loop: string; speed: string; bind?: string }) => {
      try {
        const loops = Number(opts.loop);
        if (!(Number.isInteger(loops) && loops >= 1 && loops <= 100000)) throw new Error(`--loop ${opts.loop}: a whole number from 1 to 100000`);
        const options: ReplayOptions = { map: parseMap(opts.map), to: opts.to, loops };
        if (opts.to && !/^\d+\.\d+\.\d+\.\d+:\d+$/.test(opts.to)) throw new Error(`--to ${opts.to}: write ip:port`);
        if (opts.port) options.ports = opts.port.map(Number);
        if (opts.ssrc !== undefined) {
          const ssrc = Number(opts.ssrc);
          if (!(Number.isInteger(ssrc) && ssrc >= 0 && ssrc <= 0xffffffff)) throw new Error(`--ssrc ${opts.ssrc}: 0..4294967295`);
          options.ssrc = ssrc;
        }
        if (opts.rebase) {
          const taiOffsetS = Number(opts.taiOffset);
          const clockRates = new Map(analyzeCapture(file).streams.filter((s) => s.sampleRate).map((s) => [s.destination, s.sampleRate!]));
          const startNs = BigInt(Date.now()) * 1_000_000n + BigInt(Math.round(taiOffsetS * 1e9));
          options.rebase = { clockRates, startTicks: (rate) => Number(((startNs * BigInt(rate)) / 1_000_000_000n) % 4294967296n) };
        }
        if (opts.virtual) {
          const native = loadNative();
          const clock = new native.VirtualClock(0);
          const network = new native.VirtualNetwork(clock, 0);
          const received = new Map<string, { packets: number; hash: ReturnType<typeof createHash> }>();
          // One receiver per destination, on its own virtual host.
          const receivers = new Map<string, ReturnType<typeof network.openSocket>>();
          const { replayDatagrams } = await import('../replay/replay-source.ts');
          let host = 0;
          for (const d of replayDatagrams(file, { ...options, loops: 1 })) {
            if (receivers.has(d.destination)) continue;
            const [ip, port] = d.destination.split(':');
            const addr = `10.67.255.${++host}`;
            network.addHost(`receiver-${host}`, addr);
            const s = network.openSocket(addr, { port: Number(port), receiveQueueLimit: 1 << 20 });
            if (Number(ip.split('.')[0]) >= 224) s.join(ip);
            receivers.set(d.destination, s);
          }
          const drain = () => {
            for (const [dest, s] of receivers) {
              for (let r = s.receive(); r; r = s.receive()) {
                let e = received.get(dest);
                if (!e) received.set(dest, (e = { packets: 0, hash: createHash('sha256') }));
                e.packets++;
                e.hash.update(`${r.receivedAt}:`).update(r.data);
              }
            }
          };
          const result = replayVirtual(file, network, clock, { ...options, onTick: drain });
          drain();
          console.log(`virtual replay: ${result.sent} datagrams over ${(result.endNs / 1e9).toFixed(6)} s of virtual time`);
          for (const [dest, e] of received) console.log(`  ${dest}  received ${e.packets}  digest ${e.hash.digest('hex').slice(0, 16)}`);
          return;
        }
        if (!opts.to && options.map!.size === 0) throw new Error('real-time replay needs --to ip:port or --map (it never sends to the capture\'s own addresses by default); or use --virtual');
        const stats = await replayRealtime(file, { ...options, speed: Number(opts.speed), bindAddress: opts.bind });
        console.log(`replayed ${stats.sent} datagrams; lateness mean ${(stats.meanLatenessNs / 1000).toFixed(1)} µs, max ${(stats.maxLatenessNs / 1000).toFixed(1)} µs; send errors ${stats.sendErrors}`);
      } catch (e) {
        if (e instanceof CaptureFormatError || e instanceof Error) program.error(`error: ${e.message}`);
        throw e;
      }
    });
}
