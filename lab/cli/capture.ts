// `aes67-lab capture --interface IF [--filter F] --seconds S -o FILE [--by auto|dumpcap|cap]`
import type { Command } from 'commander';
import { dumpcapAvailable, startDumpcap } from '../net/pcap/dumpcap.ts';
import { captureLive } from '../net/pcap/live-capture.ts';

const TOOLS = ['auto', 'dumpcap', 'cap'] as const;

export function registerCapture(program: Command): void {
  program
    .command('capture')
    .description("capture live traffic with a BPF filter into a pcapng file, by Wireshark's dumpcap when installed (the kernel's time stamps, libpcap's drop count), else libpcap in this process (cap)")
    .requiredOption('--interface <if>', 'network interface, e.g. eth0, lo')
    .option('--filter <bpf>', 'BPF filter, e.g. "udp port 5004 or udp port 319"', '')
    .requiredOption('--seconds <s>', 'how long to capture')
    .option('--max-packets <n>', 'stop after this many packets')
    .option('--by <tool>', `what captures: ${TOOLS.join(', ')} (auto: dumpcap when installed)`, 'auto')
    .requiredOption('-o, --output <file>', 'pcapng file to write')
    .action(async (opts: { interface: string; filter: string; seconds: string; maxPackets?: string; by: string; output: string }) => {
      const seconds = Number(opts.seconds);
      if (!(seconds > 0)) program.error(`error: --seconds ${opts.seconds}: a positive number`);
      const maxPackets = opts.maxPackets === undefined ? undefined : Number(opts.maxPackets);
      if (maxPackets !== undefined && !(Number.isInteger(maxPackets) && maxPackets > 0)) program.error(`error: --max-packets ${opts.maxPackets}: a positive integer`);
      if (!(TOOLS as readonly string[]).includes(opts.by)) program.error(`error: --by ${opts.by}: one of ${TOOLS.join(', ')}`);
      const hasDumpcap = dumpcapAvailable();
      if (opts.by === 'dumpcap' && !hasDumpcap) program.error('error: --by dumpcap: dumpcap is not installed (Debian: apt-get install wireshark-common), or use --by cap');
      // SIGINT/SIGTERM end the capture early with a complete file, as tcpdump does.
      const stop = new AbortController();
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
      const o = { interface: opts.interface, filter: opts.filter, seconds, output: opts.output, maxPackets, signal: stop.signal };
      const announce = (by: string) => console.error(`capturing on ${opts.interface} for ${seconds} s (by ${by})`);
      try {
        if (opts.by === 'cap' || !hasDumpcap) {
          const r = await captureLive({ ...o, onStart: () => announce('cap') });
          console.log(`${opts.output}: ${r.packets} packets, ${r.bytes} bytes, link type ${r.linkType}${r.truncated ? `, ${r.truncated} truncated` : ''} (by cap: stamped when read, drops not counted)`);
        } else {
          const c = startDumpcap(o);
          const r = await c.started.then(() => {
            announce('dumpcap');
            return c.done;
          }).catch((e: Error) => {
            throw new Error(`capture on "${opts.interface}" with filter "${opts.filter}" by dumpcap: ${e.message}`);
          });
          console.log(`${opts.output}: ${r.packets} packets, ${r.dropped} dropped by the capture (by dumpcap)`);
          if (r.dropped > 0) console.error(`warning: the capture dropped ${r.dropped} frames (the file is missing them, not the wire)`);
        }
      } catch (e) {
        program.error(`error: ${(e as Error).message}`);
      }
    });
}
