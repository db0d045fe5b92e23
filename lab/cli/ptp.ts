// `aes67-lab ptp follow --interface IF [--domain N] [--seconds S] [--json]`: the engine's
// PTP slave on a real interface, printed like ptp4l -m, then a summary.
import type { Command } from 'commander';
import { followPtp, formatFollowSummary } from '../ptp/ptp-follow.ts';
import type { PtpTransmitStampName } from '../../native/ptp.ts';

const TRANSMIT_STAMPS: PtpTransmitStampName[] = ['kernel', 'loopback', 'before', 'after'];

export function registerPtp(program: Command): void {
  const ptp = program.command('ptp').description('PTP (IEEE 1588-2008) with the engine');
  const follow = ptp
    .command('follow')
    .description("run the engine's PTP slave on an interface; print state, grandmaster, offset and path delay (like ptp4l -m), then lock time and offset rms/max")
    .requiredOption('--interface <if>', 'network interface, e.g. eth0')
    .option('--domain <n>', 'PTP domain 0-127', '0')
    .option('--seconds <s>', 'stop after S seconds (default: until Ctrl-C)')
    .option('--transmit-stamp <how>', 'Delay_Req transmit time: "kernel" (software transmit stamp), "loopback" (kernel stamp of our own looped-back copy), or the clock "before"/"after" the send call', 'kernel')
    .option('--json', 'print only the summary, as JSON')
    .option('--stop-after-lock <s>', 'stop S seconds after the first lock (to --lock-grandmaster when given)')
    .option('--lock-grandmaster <id>', 'the grandmaster (xxxxxx.xxxx.xxxxxx, as ptp4l prints it) whose lock --stop-after-lock waits for')
    .option('--records', 'with --json: every offset record in the summary (records[])');
  follow.action(async (opts: { interface: string; domain: string; seconds?: string; transmitStamp: string; json?: boolean; stopAfterLock?: string; lockGrandmaster?: string; records?: boolean }) => {
      if (!TRANSMIT_STAMPS.includes(opts.transmitStamp as PtpTransmitStampName)) follow.error(`error: --transmit-stamp ${opts.transmitStamp}: use ${TRANSMIT_STAMPS.join(', ')}`);
      const domain = Number(opts.domain);
      if (!Number.isInteger(domain) || domain < 0 || domain > 127) follow.error(`error: --domain ${opts.domain}: an integer 0-127 (IEEE 1588-2008 7.1)`);
      const seconds = opts.seconds === undefined ? undefined : Number(opts.seconds);
      if (seconds !== undefined && !(seconds > 0)) follow.error(`error: --seconds ${opts.seconds}: a positive number`);
      const stopAfterLockS = opts.stopAfterLock === undefined ? undefined : Number(opts.stopAfterLock);
      if (stopAfterLockS !== undefined && !(stopAfterLockS >= 0)) follow.error(`error: --stop-after-lock ${opts.stopAfterLock}: a number of seconds >= 0`);
      if (opts.lockGrandmaster !== undefined && !/^[0-9a-f]{6}\.[0-9a-f]{4}\.[0-9a-f]{6}$/.test(opts.lockGrandmaster)) follow.error(`error: --lock-grandmaster ${opts.lockGrandmaster}: a clock identity as ptp4l prints it, e.g. 001dc1.fffe.123456`);
      if (opts.lockGrandmaster !== undefined && stopAfterLockS === undefined) follow.error('error: --lock-grandmaster names whose lock --stop-after-lock waits for: give --stop-after-lock too');
      if (opts.records && !opts.json) follow.error('error: --records adds the offset records to the JSON summary: give --json too');
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const summary = await followPtp({
          interface: opts.interface,
          domain,
          seconds,
          transmitStamp: opts.transmitStamp as PtpTransmitStampName,
          stopAfterLockS,
          lockGrandmaster: opts.lockGrandmaster,
          keepRecords: opts.records === true,
          signal: abort.signal,
          onLine: opts.json ? undefined : (line) => console.log(line),
        });
        console.log(opts.json ? JSON.stringify(summary, null, 2) : formatFollowSummary(summary));
      } catch (e) {
        follow.error(`error: ${(e as Error).message}`);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
