// `aes67-lab emulate sender --interface IF --destination IP ...`: an AES67 sender on a real
// interface until interrupted or --seconds. Also the flag helpers the other emulated
// devices (dante, ravenna) share.
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { runRealTime, udpTransport, type LabTransport, type TimedActor } from '../net/lab-transport.ts';
import type { PcmEncoding } from '../net/pcm.ts';
import { SAP_GROUP_DANTE } from '../net/sap.ts';
import type { SignalSpec } from '../signal/index.ts';
import { Aes67Sender, resolveFramesPerPacket } from '../peers/aes67-sender.ts';
import { SapAnnouncer } from '../peers/sap-announcer.ts';
import { systemTimescale, TAI_OFFSET_S } from '../peers/system-timescale.ts';
import { emulateCommand } from './emulate.ts';

/** A flag's value as a number in [min, max] (integer unless `real`), or an error naming the flag. */
export function numberFlag(flag: string, value: string, min: number, max: number, real = false): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (!real && !Number.isInteger(n)) || n < min || n > max) {
    throw new Error(`${flag} ${value}: ${real ? 'a number' : 'a whole number'} from ${min} to ${max}`);
  }
  return n;
}

export function ipv4Flag(flag: string, value: string, multicast?: boolean): string {
  const o = value.split('.').map(Number);
  if (o.length !== 4 || o.some((x, i) => !/^\d{1,3}$/.test(value.split('.')[i]) || x > 255)) throw new Error(`${flag} ${value}: write an IPv4 address, e.g. 239.69.1.1`);
  const isMc = o[0] >= 224 && o[0] <= 239;
  if (multicast === true && !isMc) throw new Error(`${flag} ${value}: must be a multicast group (224.0.0.0-239.255.255.255)`);
  return value;
}

/** Frames per packet from --frames or --ptime-us (default 1 ms), checked against AES67's 125 µs-4 ms. */
export function framesFlag(rate: number, frames?: string, ptimeUs?: string): number {
  const flag = frames !== undefined ? `--frames ${frames}` : ptimeUs !== undefined ? `--ptime-us ${ptimeUs}` : '--ptime-us 1000';
  try {
    return resolveFramesPerPacket(rate, frames !== undefined ? numberFlag('--frames', frames, 1, 1536) : undefined, ptimeUs !== undefined ? numberFlag('--ptime-us', ptimeUs, 1, 4000, true) : frames === undefined ? 1000 : undefined);
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message.replace(/^--\S+ \S+: /, '')}`);
  }
}

export function encodingFlag(value: string, allowed: readonly string[] = ['L16', 'L24', 'L32']): PcmEncoding {
  const v = value.toUpperCase();
  if (!allowed.includes(v)) throw new Error(`--encoding ${value}: use ${allowed.join(', ')}`);
  return v as PcmEncoding;
}

export interface SignalFlags {
  signal: string;
  frequency: string;
  level: string;
  channelStep?: string;
  seed: string;
  wav?: string;
  probeDegree: string;
}

export function addSignalOptions(c: Command): Command {
  return c
    .option('--signal <kind>', 'sine, silence, noise, probe (MLS) or wav', 'sine')
    .option('--frequency <hz>', 'sine frequency', '997')
    .option('--level <dBFS>', 'level, AES17 dBFS', '-20')
    .option('--channel-step <hz>', 'sine: add this per channel so channels differ')
    .option('--seed <n>', 'noise seed', '1')
    .option('--wav <file>', 'wav: the file to loop (its rate must be the stream\'s)')
    .option('--probe-degree <k>', 'probe: MLS degree 2-20', '15');
}

export function signalFromFlags(f: SignalFlags): SignalSpec {
  const level = numberFlag('--level', f.level, -200, 0, true);
  switch (f.signal) {
    case 'sine':
      return { kind: 'sine', frequencyHz: numberFlag('--frequency', f.frequency, 0.001, 192000, true), levelDbfs: level, ...(f.channelStep ? { channelStepHz: numberFlag('--channel-step', f.channelStep, -20000, 20000, true) } : {}) };
    case 'silence':
      return { kind: 'silence' };
    case 'noise':
      return { kind: 'noise', seed: numberFlag('--seed', f.seed, 0, Number.MAX_SAFE_INTEGER), levelDbfs: level };
    case 'probe':
      return { kind: 'probe', levelDbfs: level, degree: numberFlag('--probe-degree', f.probeDegree, 2, 20) };
    case 'wav':
      if (!f.wav) throw new Error('--signal wav needs --wav <file>');
      try {
        readFileSync(f.wav); // a missing file is named here, before anything starts
      } catch (e) {
        throw new Error(`--wav ${f.wav}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      return { kind: 'wav', path: f.wav };
    default:
      throw new Error(`--signal ${f.signal}: use sine, silence, noise, probe or wav`);
  }
}

/** The interface's EUI-64 (MAC with FF-FE in the middle): what a device that is grandmaster advertises. */
export function interfaceEui64(ifname: string): string {
  let mac = '00:00:00:00:00:00';
  try {
    mac = readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim();
  } catch {
    // No sysfs entry: the all-zero MAC.
  }
  const b = mac.split(':').map((h) => h.toUpperCase().padStart(2, '0'));
  return [b[0], b[1], b[2], 'FF', 'FE', b[3], b[4], b[5]].join('-');
}

export function openInterface(ifname: string): LabTransport {
  const t = udpTransport(ifname);
  if (t.address === '0.0.0.0') throw new Error(`--interface ${ifname}: no IPv4 address to send from`);
  return t;
}

/** Runs actors live until --seconds or SIGINT/SIGTERM, then `stop` (SAP deletion, mDNS goodbye). */
export async function runLive(actors: TimedActor[], transport: LabTransport, seconds: number | undefined, stop: () => void): Promise<void> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await runRealTime(actors, transport, { durationNs: seconds === undefined ? Number.MAX_SAFE_INTEGER : seconds * 1e9, signal: abort.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stop();
  }
}

interface SenderFlags extends SignalFlags {
  interface: string;
  destination: string;
  port: string;
  channels: string;
  rate: string;
  encoding: string;
  ptimeUs?: string;
  frames?: string;
  mediaclkOffset: string;
  payloadType: string;
  ttl: string;
  dscp: string;
  sessionName?: string;
  gmid?: string;
  taiOffset: string;
  sap?: string | boolean;
  sapInterval: string;
  sdpOut?: string;
  seconds?: string;
  json?: boolean;
}

export function registerEmulateSender(program: Command): void {
  const c = emulateCommand(program)
    .command('sender')
    .description('an AES67 sender: L16/L24/L32, 1-64 channels, 44.1-384 kHz, 125 µs-4 ms, RTP time from host UTC + TAI offset')
    .requiredOption('--interface <if>', 'network interface to send on')
    .requiredOption('--destination <ip>', 'multicast group or unicast address')
    .option('--port <port>', 'UDP port', '5004')
    .option('--channels <n>', '1-64', '2')
    .option('--rate <hz>', 'sample rate', '48000')
    .option('--encoding <enc>', 'L16, L24 or L32', 'L24')
    .option('--ptime-us <us>', 'packet time in µs (rounded to whole frames)')
    .option('--frames <n>', 'frames per packet (instead of --ptime-us)')
    .option('--mediaclk-offset <n>', 'SDP mediaclk:direct= offset', '0')
    .option('--payload-type <pt>', 'RTP payload type 96-127', '96')
    .option('--ttl <n>', 'multicast TTL', '32')
    .option('--dscp <n>', 'DSCP of the media', '34')
    .option('--session-name <name>', 'SDP s= name')
    .option('--gmid <eui64>', 'grandmaster identity for ts-refclk (default: traceable)')
    .option('--tai-offset <s>', 'TAI − UTC for PTP time from the host clock', String(TAI_OFFSET_S))
    .option('--sap [group]', `announce the SDP by SAP (default group ${SAP_GROUP_DANTE})`)
    .option('--sap-interval <s>', 'SAP interval', '30')
    .option('--sdp-out <file>', 'write the SDP to this file')
    .option('--seconds <s>', 'stop after this long (default: until interrupted)')
    .option('--json', 'print the closing statistics as JSON');
  addSignalOptions(c).action(async (f: SenderFlags) => {
    try {
      const transport = openInterface(f.interface);
      const rate = numberFlag('--rate', f.rate, 44100, 384000);
      const sender = new Aes67Sender({
        transport,
        timescale: systemTimescale(transport, numberFlag('--tai-offset', f.taiOffset, 0, 1000, true)),
        destination: ipv4Flag('--destination', f.destination),
        port: numberFlag('--port', f.port, 1, 65535),
        channels: numberFlag('--channels', f.channels, 1, 64),
        sampleRate: rate,
        encoding: encodingFlag(f.encoding),
        framesPerPacket: framesFlag(rate, f.frames, f.ptimeUs),
        signal: signalFromFlags(f),
        mediaclkOffset: numberFlag('--mediaclk-offset', f.mediaclkOffset, 0, 0xffffffff),
        payloadType: numberFlag('--payload-type', f.payloadType, 96, 127),
        ttl: numberFlag('--ttl', f.ttl, 1, 255),
        dscp: numberFlag('--dscp', f.dscp, 0, 63),
        ...(f.sessionName ? { sessionName: f.sessionName } : {}),
        ...(f.gmid ? { ptpRefclk: { gmid: f.gmid.toUpperCase(), domain: 0 } } : {}),
      });
      const seconds = f.seconds === undefined ? undefined : numberFlag('--seconds', f.seconds, 0.001, 1e7, true);
      const sdp = sender.sdp();
      if (f.sdpOut) writeFileSync(f.sdpOut, sdp);
      const actors: TimedActor[] = [sender];
      let sap: SapAnnouncer | undefined;
      if (f.sap) {
        const group = typeof f.sap === 'string' ? ipv4Flag('--sap', f.sap, true) : SAP_GROUP_DANTE;
        sap = new SapAnnouncer({ transport, group, intervalNs: numberFlag('--sap-interval', f.sapInterval, 0.1, 3600, true) * 1e9, sdp });
        actors.push(sap);
      }
      process.stderr.write(`emulating an AES67 sender on ${f.interface} (${transport.address}) to ${f.destination}:${sender.port}\n`);
      if (!f.json) process.stdout.write(sdp);
      await runLive(actors, transport, seconds, () => {
        sap?.stop();
        sender.close();
      });
      const stats = { ...sender.stats, sapAnnouncements: sap?.announcements ?? 0 };
      console.log(f.json ? JSON.stringify({ sdp, stats }) : `sent ${stats.packets} packets; lateness mean ${(stats.meanLatenessNs / 1000).toFixed(1)} µs, max ${(stats.maxLatenessNs / 1000).toFixed(1)} µs; skipped ${stats.skipped}`);
    } catch (e) {
      program.error(`error: emulate sender: ${(e as Error).message}`);
    }
  });
}
