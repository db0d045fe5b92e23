// `aes67-lab emulate dante --interface IF --device-name NAME ...`: one AES67 flow the way a
// Dante device in AES67 mode sends it (SAP to 239.255.255.255, 239.69/16, 48 kHz L24 1 ms,
// at most 8 channels, Dante's SDP), until interrupted or --seconds.
import type { Command } from 'commander';
import { DANTE_AES67_MAX_CHANNELS, DANTE_DEFAULT_PREFIX, DanteAes67Sender, parseMulticastPrefix } from '../peers/dante-aes67-sender.ts';
import { systemTimescale, TAI_OFFSET_S } from '../peers/system-timescale.ts';
import { emulateCommand } from './emulate.ts';
import { addSignalOptions, interfaceEui64, numberFlag, openInterface, runLive, signalFromFlags, type SignalFlags } from './emulate-sender.ts';

interface DanteFlags extends SignalFlags {
  interface: string;
  deviceName: string;
  flowId: string;
  channels: string;
  labels?: string;
  prefix: string;
  gmid?: string;
  sapInterval: string;
  mediaclkOffset?: string;
  sendDelayUs: string;
  taiOffset: string;
  seconds?: string;
  json?: boolean;
}

export function registerEmulateDante(program: Command): void {
  const c = emulateCommand(program)
    .command('dante')
    .description('a Dante device\'s AES67 flow: SAP to 239.255.255.255:9875, group in 239.69/16, 48 kHz L24 1 ms, <= 8 channels')
    .requiredOption('--interface <if>', 'network interface to send on')
    .requiredOption('--device-name <name>', 'Dante device name (the SDP s= is "<name> : <flow>")')
    .option('--flow-id <n>', 'Dante flow number', '1')
    .option('--channels <n>', `1-${DANTE_AES67_MAX_CHANNELS}`, '2')
    .option('--labels <a,b,...>', 'channel names, comma separated (default 01, 02, ...)')
    .option('--prefix <cidr>', 'the device\'s AES67 multicast prefix', DANTE_DEFAULT_PREFIX)
    .option('--gmid <eui64>', 'current grandmaster identity (default: this interface\'s EUI-64)')
    .option('--sap-interval <s>', 'SAP announcement interval', '30')
    .option('--mediaclk-offset <n>', 'mediaclk:direct= offset (default: derived from the name, non-zero)')
    .option('--send-delay-us <us>', 'extra delay before each packet leaves (late-packet tests)', '0')
    .option('--tai-offset <s>', 'TAI − UTC for PTP time from the host clock', String(TAI_OFFSET_S))
    .option('--seconds <s>', 'stop after this long (default: until interrupted)')
    .option('--json', 'print the SDP and closing statistics as JSON');
  addSignalOptions(c).action(async (f: DanteFlags) => {
    try {
      const channels = Number(f.channels);
      if (!Number.isInteger(channels) || channels < 1) throw new Error(`--channels ${f.channels}: a whole number from 1 to ${DANTE_AES67_MAX_CHANNELS}`);
      if (channels > DANTE_AES67_MAX_CHANNELS) throw new Error(`--channels ${channels}: a Dante AES67 flow carries at most ${DANTE_AES67_MAX_CHANNELS} channels; run one flow per ${DANTE_AES67_MAX_CHANNELS} (--flow-id)`);
      try {
        parseMulticastPrefix(f.prefix);
      } catch (e) {
        throw new Error(`--prefix ${(e as Error).message}`);
      }
      const labels = f.labels?.split(',').map((s) => s.trim());
      if (labels && labels.length !== channels) throw new Error(`--labels has ${labels.length} names for --channels ${channels}`);
      const transport = openInterface(f.interface);
      const seconds = f.seconds === undefined ? undefined : numberFlag('--seconds', f.seconds, 0.001, 1e7, true);
      const dante = new DanteAes67Sender({
        transport,
        timescale: systemTimescale(transport, numberFlag('--tai-offset', f.taiOffset, 0, 1000, true)),
        deviceName: f.deviceName,
        flowId: numberFlag('--flow-id', f.flowId, 1, 65535),
        channels,
        ...(labels ? { channelLabels: labels } : {}),
        signal: signalFromFlags(f),
        grandmaster: f.gmid ?? interfaceEui64(f.interface),
        multicastPrefix: f.prefix,
        sapIntervalNs: numberFlag('--sap-interval', f.sapInterval, 0.1, 3600, true) * 1e9,
        ...(f.mediaclkOffset !== undefined ? { mediaclkOffset: numberFlag('--mediaclk-offset', f.mediaclkOffset, 1, 0xffffffff) } : {}),
        sendDelayNs: numberFlag('--send-delay-us', f.sendDelayUs, 0, 1e6, true) * 1000,
      });
      process.stderr.write(`emulating Dante "${dante.sessionName}" on ${f.interface} (${transport.address}): ${dante.destination}:5004, SAP to 239.255.255.255:9875\n`);
      if (!f.json) process.stdout.write(dante.sdp());
      await runLive([dante], transport, seconds, () => dante.close());
      const stats = { ...dante.rtp.stats, sapAnnouncements: dante.sap.announcements };
      console.log(f.json ? JSON.stringify({ sdp: dante.sdp(), destination: dante.destination, stats }) : `sent ${stats.packets} packets, ${stats.sapAnnouncements} SAP announcements; lateness mean ${(stats.meanLatenessNs / 1000).toFixed(1)} µs, max ${(stats.maxLatenessNs / 1000).toFixed(1)} µs`);
    } catch (e) {
      program.error(`error: emulate dante: ${(e as Error).message}`);
    }
  });
}
