// `aes67-lab emulate ravenna --interface IF --session-name NAME --destination GROUP ...`: a
// RAVENNA-style session announced by DNS-SD over mDNS and served by RTSP (DESCRIBE, and
// ANNOUNCE when it changes: --change-at S with --change-channels / --change-destination /
// --change-gmid emulates a session edit mid-run), until interrupted or --seconds.
import type { Command } from 'commander';
import { checkInstanceName } from '../net/mdns.ts';
import { tcpStreams } from '../net/rtsp-stream.ts';
import { RavennaSender, type RavennaStreamSettings } from '../peers/ravenna-sender.ts';
import { systemTimescale, TAI_OFFSET_S } from '../peers/system-timescale.ts';
import type { TimedActor } from '../net/lab-transport.ts';
import { emulateCommand } from './emulate.ts';
import { addSignalOptions, encodingFlag, framesFlag, interfaceEui64, ipv4Flag, numberFlag, openInterface, runLive, signalFromFlags, type SignalFlags } from './emulate-sender.ts';

interface RavennaFlags extends SignalFlags {
  interface: string;
  sessionName: string;
  deviceName: string;
  destination: string;
  port: string;
  channels: string;
  rate: string;
  encoding: string;
  frames?: string;
  ptimeUs?: string;
  rtspPort: string;
  domain: string;
  gmid?: string;
  mediaclkOffset: string;
  changeAt?: string;
  changeChannels?: string;
  changeDestination?: string;
  changeGmid?: string;
  taiOffset: string;
  seconds?: string;
  json?: boolean;
}

export function registerEmulateRavenna(program: Command): void {
  const c = emulateCommand(program)
    .command('ravenna')
    .description('a RAVENNA session: DNS-SD _rtsp._tcp / _ravenna_session over mDNS, RTSP DESCRIBE and ANNOUNCE, L16/L24 44.1-384 kHz from 125 µs')
    .requiredOption('--interface <if>', 'network interface')
    .requiredOption('--session-name <name>', 'session name (the DNS-SD instance and the /by-name/ path)')
    .requiredOption('--destination <group>', 'multicast group of the stream')
    .option('--device-name <name>', 'device name (its own DNS-SD instance and mDNS host)', 'lab-ravenna')
    .option('--port <port>', 'RTP port', '5004')
    .option('--channels <n>', '1-64', '2')
    .option('--rate <hz>', 'sample rate', '48000')
    .option('--encoding <enc>', 'L16 or L24', 'L24')
    .option('--frames <n>', 'frames per packet (6/12/16/48/96/192 at 48 kHz)')
    .option('--ptime-us <us>', 'packet time in µs (instead of --frames)')
    .option('--rtsp-port <port>', 'RTSP TCP port', '554')
    .option('--domain <n>', 'PTP domain (a=clock-domain, ts-refclk)', '0')
    .option('--gmid <eui64>', 'grandmaster identity (default: this interface\'s EUI-64)')
    .option('--mediaclk-offset <n>', 'mediaclk:direct= offset', '0')
    .option('--change-at <s>', 'change the session this many seconds in (RTSP ANNOUNCE follows)')
    .option('--change-channels <n>', 'with --change-at: the new channel count')
    .option('--change-destination <group>', 'with --change-at: the new multicast group')
    .option('--change-gmid <eui64>', 'with --change-at: the new grandmaster identity')
    .option('--tai-offset <s>', 'TAI − UTC for PTP time from the host clock', String(TAI_OFFSET_S))
    .option('--seconds <s>', 'stop after this long (default: until interrupted)')
    .option('--json', 'print the SDP(s) and closing statistics as JSON');
  addSignalOptions(c).action(async (f: RavennaFlags) => {
    try {
      for (const [flag, v] of [['--session-name', f.sessionName], ['--device-name', f.deviceName]]) {
        try {
          checkInstanceName(v);
        } catch (e) {
          throw new Error(`${flag} ${(e as Error).message}`);
        }
      }
      const transport = openInterface(f.interface);
      const seconds = f.seconds === undefined ? undefined : numberFlag('--seconds', f.seconds, 0.001, 1e7, true);
      const change: Partial<RavennaStreamSettings> = {};
      if (f.changeChannels) change.channels = numberFlag('--change-channels', f.changeChannels, 1, 64);
      if (f.changeDestination) change.destination = ipv4Flag('--change-destination', f.changeDestination, true);
      if (f.changeGmid) change.grandmaster = f.changeGmid;
      const changeAt = f.changeAt === undefined ? undefined : numberFlag('--change-at', f.changeAt, 0, 1e7, true);
      if (changeAt === undefined && Object.keys(change).length > 0) throw new Error('--change-channels/--change-destination/--change-gmid need --change-at <s>');
      if (changeAt !== undefined && Object.keys(change).length === 0) throw new Error('--change-at needs what changes: --change-channels, --change-destination or --change-gmid');
      const rate = numberFlag('--rate', f.rate, 44100, 384000);
      const sender = new RavennaSender({
        transport,
        timescale: systemTimescale(transport, numberFlag('--tai-offset', f.taiOffset, 0, 1000, true)),
        streams: tcpStreams(transport.address),
        sessionName: f.sessionName,
        deviceName: f.deviceName,
        destination: ipv4Flag('--destination', f.destination, true),
        port: numberFlag('--port', f.port, 1, 65535),
        channels: numberFlag('--channels', f.channels, 1, 64),
        sampleRate: rate,
        encoding: encodingFlag(f.encoding, ['L16', 'L24']),
        framesPerPacket: framesFlag(rate, f.frames, f.ptimeUs),
        rtspPort: numberFlag('--rtsp-port', f.rtspPort, 1, 65535),
        ptpDomain: numberFlag('--domain', f.domain, 0, 127),
        grandmaster: f.gmid ?? interfaceEui64(f.interface),
        mediaclkOffset: numberFlag('--mediaclk-offset', f.mediaclkOffset, 0, 0xffffffff),
        signal: signalFromFlags(f),
      });
      const sdps = [sender.sdp()];
      process.stderr.write(`emulating RAVENNA session "${f.sessionName}" on ${f.interface} (${transport.address}): ${sender.url}\n`);
      if (!f.json) process.stdout.write(sdps[0]);
      const actors: TimedActor[] = [sender];
      if (changeAt !== undefined) {
        const at = transport.now() + changeAt * 1e9;
        let done = false;
        actors.push({
          poll(now) {
            if (done) return Infinity;
            if (now < at) return at;
            done = true;
            sender.update(change);
            sdps.push(sender.sdp());
            process.stderr.write(`session changed: ${JSON.stringify(change)}; ANNOUNCE to ${sender.rtsp.openConnections} RTSP client(s)\n`);
            if (!f.json) process.stdout.write(sdps[1]);
            return Infinity;
          },
        });
      }
      await runLive(actors, transport, seconds, () => sender.close());
      const stats = { rtp: sender.rtp.stats, rtsp: sender.rtsp.stats, mdns: sender.mdns.stats };
      console.log(f.json ? JSON.stringify({ url: sender.url, sdps, stats }) : `sent ${stats.rtp.packets} packets (last stream); RTSP: ${stats.rtsp.describes} DESCRIBE, ${stats.rtsp.announces} ANNOUNCE; mDNS: ${stats.mdns.responses} responses`);
    } catch (e) {
      program.error(`error: emulate ravenna: ${(e as Error).message}`);
    }
  });
}
