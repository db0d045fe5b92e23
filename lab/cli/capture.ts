// `aes67-lab capture --interface IF [--filter F] --seconds S -o FILE`
import type { Command } from 'commander';
import { captureLive } from '../net/pcap/live-capture.ts';

export function registerCapture(program: Command): void {
  program
    .command('capture')
    .description('capture live traffic (libpcap via cap) with a BPF filter into a pcapng file')
    .requiredOption('--interface <if>', 'network interface, e.g. eth0, lo')
    .option('--filter <bpf>', 'BPF filter, e.g. "udp port 5004 or udp port 319"', '')
    .requiredOption('--seconds <s>', 'how long to capture')
    .option('--max-packets <n>', 'stop after this many packets')
    .requiredOption('-o, --output <file>', 'pcapng file to write')
    .action(async (opts: { interface: string; filter: string; seconds: string; maxPackets?: string; output: string }) => {
      const seconds = Number(opts.seconds);
      if (!(seconds > 0)) program.error(`error: --seconds ${opts.seconds}: a positive number`);
      const maxPackets = opts.maxPackets === undefined ? undefined : Number(opts.maxPackets);
      if (maxPackets !== undefined && !(Number.isInteger(maxPackets) && maxPackets > 0)) program.error(`error: --max-packets ${opts.maxPackets}: a positive integer`);
      // SIGINT/SIGTERM end the capture early with a complete file, as tcpdump does.
      const stop = new AbortController();
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
      try {
        const r = await captureLive({ interface: opts.interface, filter: opts.filter, seconds, output: opts.output, maxPackets, signal: stop.signal, onStart: () => console.error(`capturing on ${opts.interface} for ${seconds} s`) });
        console.log(`${opts.output}: ${r.packets} packets, ${r.bytes} bytes, link type ${r.linkType}${r.truncated ? `, ${r.truncated} truncated` : ''}`);
      } catch (e) {
        program.error(`error: ${(e as Error).message}`);
      }
    });
}
