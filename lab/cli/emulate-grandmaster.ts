// `aes67-lab emulate grandmaster --interface IF [--domain N] [--priority1 N] [--priority2 N]
//   [--clock-class N] [--profile aes67|ravenna] [--two-step|--one-step] [--master-only]
//   [--identity ID] [--event AT:ACTION ...] [--seconds S] [--json]`
// Runs the emulated grandmaster on real UDP sockets on one interface until SIGINT/SIGTERM or
// --seconds. Its PTP time is the system clock as TAI, so a slave on the same host (any
// network namespace) that follows it should measure an offset of about zero.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { runRealTime, udpTransport } from '../net/lab-transport.ts';
import { Grandmaster, PTP_DSCP, type GrandmasterCounts, type GrandmasterEvent, type GrandmasterOptions, type PtpProfile } from '../peers/grandmaster.ts';
import { systemPtpTimescale } from '../peers/grandmaster-timescale.ts';
import { emulateCommand } from './emulate.ts';

/**
 * Where the two-step Syncs' times came from, for the text summary: read after send() means
 * the interface gave no transmit stamp in time (tens of µs of error on a busy host).
 */
export function syncStampSummary(c: Pick<GrandmasterCounts, 'kernelStamps' | 'loopbackStamps' | 'afterSendStamps'>, ifname: string): string {
  const line = `  Sync time stamps: ${c.kernelStamps} kernel transmit, ${c.loopbackStamps} looped-back copy, ${c.afterSendStamps} read after send()`;
  if (c.afterSendStamps === 0) return line;
  return `${line} — ${ifname} gave no transmit stamp within 20 ms for those (\`ethtool -T ${ifname}\` should list software-transmit); expect tens of µs of error in them`;
}

/** A flag's value as an integer in range, or an error naming the flag and the range. */
function intFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || n < min || n > max) throw new Error(`${flag} ${text}: must be an integer ${min}..${max}`);
  return n;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };

/** "1.5ms", "-200us", "3s", "250" (ns when no unit) as nanoseconds. */
function duration(text: string, defaultUnit = 'ns'): number | undefined {
  const m = /^([+-]?\d+(?:\.\d+)?)(ns|us|µs|ms|s)?$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_NS[m[2] ?? defaultUnit] : undefined;
}

const EVENT_HELP =
  'AT:ACTION with AT in seconds (or with a unit: 500ms) and ACTION one of step=±DURATION (e.g. +1ms), frequency=±PPM (e.g. +100ppm), ' +
  'stop-announcing, resume-announcing, silence, resume, follow-up=normal|missing|late:DURATION, clock-class=N, priority1=N, priority2=N';

/** One `--event` value, e.g. "10:stop-announcing", "5s:step=+1ms", "3:follow-up=late:20ms". */
export function parseGrandmasterEvent(text: string): GrandmasterEvent {
  const bad = (why: string) => new Error(`--event ${text}: ${why}; write ${EVENT_HELP}`);
  const colon = text.indexOf(':');
  if (colon < 0) throw bad('no AT:');
  const atNs = duration(text.slice(0, colon), 's');
  if (atNs === undefined || atNs < 0) throw bad(`"${text.slice(0, colon)}" is not a time`);
  const [action, value] = text.slice(colon + 1).split(/=(.*)/s);
  const integer = (min: number, max: number) => {
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw bad(`${action} needs an integer ${min}..${max}`);
    return Number(value);
  };
  switch (action) {
    case 'step': {
      const ns = value === undefined ? undefined : duration(value);
      if (ns === undefined) throw bad('step needs a duration such as +1ms or -500us');
      return { atNs, kind: 'step', ns };
    }
    case 'frequency': {
      const m = value === undefined ? null : /^([+-]?\d+(?:\.\d+)?)(ppm)?$/.exec(value);
      if (!m) throw bad('frequency needs ppm such as +100ppm');
      return { atNs, kind: 'frequency', ppm: Number(m[1]) };
    }
    case 'stop-announcing':
    case 'resume-announcing':
    case 'silence':
    case 'resume':
      if (value !== undefined) throw bad(`${action} takes no value`);
      return { atNs, kind: action };
    case 'follow-up': {
      if (value === 'normal' || value === 'missing') return { atNs, kind: 'follow-up', mode: value };
      const late = value?.startsWith('late:') ? duration(value.slice(5), 'ms') : undefined;
      if (late === undefined || late <= 0) throw bad('follow-up needs normal, missing or late:DURATION (e.g. late:20ms)');
      return { atNs, kind: 'follow-up', mode: 'late', lateNs: late };
    }
    case 'clock-class':
      return { atNs, kind: 'clock-class', clockClass: integer(0, 255) };
    case 'priority1':
      return { atNs, kind: 'priority', priority1: integer(0, 255) };
    case 'priority2':
      return { atNs, kind: 'priority', priority2: integer(0, 255) };
    default:
      throw bad(`unknown action "${action}"`);
  }
}

interface Flags {
  interface?: string;
  domain?: string;
  priority1?: string;
  priority2?: string;
  clockClass?: string;
  profile: string;
  twoStep?: boolean;
  oneStep?: boolean;
  masterOnly?: boolean;
  identity?: string;
  event: string[];
  seconds?: string;
  json?: boolean;
}

/** The grandmaster's options from the flags; errors name the flag and what is allowed. */
export function grandmasterOptionsFromFlags(o: Flags): GrandmasterOptions & { seconds: number } {
  if (!o.interface) throw new Error('--interface IF is required (the interface to send PTP on, e.g. eth0)');
  if (!(o.profile in PTP_DSCP)) throw new Error(`--profile ${o.profile}: must be one of ${Object.keys(PTP_DSCP).join(', ')}`);
  if (o.twoStep && o.oneStep) throw new Error('--two-step and --one-step: choose one');
  let seconds = Infinity;
  if (o.seconds !== undefined) {
    seconds = Number(o.seconds);
    if (!(Number.isFinite(seconds) && seconds > 0 && seconds <= 7 * 86400)) throw new Error(`--seconds ${o.seconds}: must be a number of seconds > 0 (at most a week)`);
  }
  return {
    // IEEE 1588-2008 Table 2: domains 128-255 are reserved.
    domain: o.domain === undefined ? undefined : intFlag('--domain', o.domain, 0, 127),
    priority1: o.priority1 === undefined ? undefined : intFlag('--priority1', o.priority1, 0, 255),
    priority2: o.priority2 === undefined ? undefined : intFlag('--priority2', o.priority2, 0, 255),
    clockClass: o.clockClass === undefined ? undefined : intFlag('--clock-class', o.clockClass, 0, 255),
    profile: o.profile as PtpProfile,
    twoStep: !o.oneStep,
    masterOnly: o.masterOnly ?? false,
    clockIdentity: o.identity,
    script: o.event.map(parseGrandmasterEvent),
    seconds,
  };
}

/** The interface's MAC (ptp4l derives its identity from it), or undefined off Linux. */
function interfaceMac(name: string): string | undefined {
  try {
    const mac = readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim();
    return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) && mac !== '00:00:00:00:00:00' ? mac : undefined;
  } catch {
    return undefined;
  }
}

export function registerEmulateGrandmaster(program: Command): void {
  emulateCommand(program)
    .command('grandmaster')
    .description('a PTP grandmaster (AES67 media profile by default) on a real interface')
    .option('--interface <if>', 'interface to send PTP on (its MAC gives the clock identity, as in ptp4l)')
    .option('--domain <n>', 'PTP domain 0..127', '0')
    .option('--priority1 <n>', 'priority1 0..255 (lower wins)', '128')
    .option('--priority2 <n>', 'priority2 0..255 (lower wins)', '128')
    .option('--clock-class <n>', 'clockClass 0..255 (6 = locked to GPS, 248 = default)', '248')
    .option('--profile <p>', 'DSCP: aes67 (event 46, general 34) or ravenna (48, 46)', 'aes67')
    .option('--two-step', 'Sync + Follow_Up (default)')
    .option('--one-step', 'the time stamp in the Sync itself')
    .option('--master-only', 'keep sending even when a better master is heard (otherwise yield to it, as IEEE 1588 says)')
    .option('--identity <id>', 'clock identity instead of the MAC-derived one (e.g. 020000.fffe.000001)')
    .option('--event <at:action>', `scripted behaviour, repeatable: ${EVENT_HELP}`, (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--seconds <s>', 'stop after this many seconds (default: until SIGINT/SIGTERM)')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: Flags, cmd: Command) => {
      let options: ReturnType<typeof grandmasterOptionsFromFlags>;
      try {
        options = grandmasterOptionsFromFlags(opts);
      } catch (e) {
        return cmd.error(`error: ${(e as Error).message}`);
      }
      const ifname = opts.interface!;
      let transport: ReturnType<typeof udpTransport>;
      let gm: Grandmaster;
      try {
        transport = udpTransport(ifname);
        const timescale = systemPtpTimescale(() => transport.now());
        const { seconds: _, ...gmOptions } = options;
        // Times in brackets are CLOCK_MONOTONIC seconds, as ptp4l prints them.
        const stamp = (local: number) => `[${(local / 1e9).toFixed(3)}]`;
        gm = new Grandmaster(transport, {
          ...gmOptions,
          identitySeed: interfaceMac(ifname) ?? `${ifname}/${transport.address}`,
          timescale,
          onChange: (what, at) => process.stderr.write(`${stamp(at)} ${what}\n`),
        });
        process.stderr.write(
          `${stamp(transport.now())} grandmaster ${gm.identity} on ${ifname} ${transport.address}: domain ${gm.config.domain}, priority1 ${gm.config.priority1}, priority2 ${gm.config.priority2}, ` +
            `clockClass ${gm.config.clockClass}, ${gm.config.twoStep ? 'two' : 'one'}-step, ${gm.config.profile} DSCP ${PTP_DSCP[gm.config.profile].event}/${PTP_DSCP[gm.config.profile].general}, ` +
            `time: system clock + ${gm.config.currentUtcOffset} s (realtime via ${timescale.realtime.method})\n`,
        );
      } catch (e) {
        return cmd.error(`error: --interface ${ifname}: ${(e as Error).message}`);
      }
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const started = transport.now();
      await runRealTime([gm], transport, { durationNs: options.seconds * 1e9, signal: stop.signal });
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      gm.close();
      const summary = {
        identity: gm.identity,
        interface: ifname,
        address: transport.address,
        domain: gm.config.domain,
        priority1: gm.config.priority1,
        priority2: gm.config.priority2,
        clockClass: gm.config.clockClass,
        profile: gm.config.profile,
        twoStep: gm.config.twoStep,
        state: gm.state,
        seconds: Math.round((transport.now() - started) / 1e6) / 1e3,
        counts: gm.counts,
      };
      if (opts.json) console.log(JSON.stringify(summary, null, 2));
      else {
        const c = gm.counts;
        console.log(`grandmaster ${summary.identity} ran ${summary.seconds} s on ${ifname}, state ${gm.state}`);
        console.log(`  sent: ${c.announce} Announce, ${c.sync} Sync, ${c.followUp} Follow_Up, ${c.delayResp} Delay_Resp (to ${c.delayReqReceived} Delay_Req)`);
        console.log(`  heard: ${c.foreignAnnounce} foreign Announce; yielded ${c.becamePassive}x, resumed ${c.becameMaster}x; send failures ${c.sendFailures}`);
        if (gm.config.twoStep) console.log(syncStampSummary(c, ifname));
        const dropped = { ...c.ignored, ...c.malformed };
        if (Object.keys(dropped).length > 0) console.log(`  set aside: ${Object.entries(dropped).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }
    });
}
