// The scenario file: what the lab builds around the device, what it does to the network,
// and what it expects. Quantities carry units as people write them ("150us", "0.5%",
// "-20dBFS"); the schema turns them into base units (ns, fractions, Hz, dB, ppm). Every
// key is strict: a misspelt key is an error naming it, never silently ignored.
import { z } from 'zod';
import { parseDuration, parseFrequency, parseLevel, parsePercent, parsePpm } from './units.ts';

function unit(parse: (v: string | number) => number, description: string) {
  return z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      try {
        return parse(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    })
    .describe(description);
}

export const duration = unit(parseDuration, 'a duration: number with ns, us, ms, s, min or h (e.g. 150us, 30s)');
export const percent = unit(parsePercent, 'a percentage (e.g. 0.5%) or a fraction (0.005)');
export const frequency = unit(parseFrequency, 'a frequency (e.g. 997Hz, 48kHz) or hertz');
export const level = unit(parseLevel, 'a level in dBFS (e.g. -20dBFS)');
export const ppm = unit(parsePpm, 'a frequency offset in ppm (e.g. 100ppm)');

const ipv4 = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, 'an IPv4 address like 239.69.1.1');
const endpoint = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}:\d{1,5}$/, "an address and port like '239.69.1.1:5004'");

export const SAMPLE_RATES = [44_100, 48_000, 88_200, 96_000, 176_400, 192_000, 352_800, 384_000] as const;
const sampleRate = frequency.refine((r) => (SAMPLE_RATES as readonly number[]).includes(r), {
  message: `sample rate must be one of ${SAMPLE_RATES.join(', ')} Hz`,
});
const encoding = z.enum(['L16', 'L24', 'L32']);

const signal = z.union([
  z.strictObject({ sine: frequency, level: level.default(-20) }),
  z.strictObject({ probe: z.enum(['mls', 'pulses']), level: level.default(-6) }),
  z.strictObject({ noise: z.literal('white'), level: level.default(-20), seed: z.int().optional() }),
  z.strictObject({ wav: z.string().describe('path relative to the scenario file') }),
  z.literal('silence'),
]);

const impairments = z.strictObject({
  delay: duration.optional().describe('constant one-way delay added to every packet'),
  loss: percent.optional().describe('independent random loss'),
  burstLoss: z
    .strictObject({
      rate: percent.describe('long-run fraction of packets lost'),
      meanBurst: z.number().min(1).describe('mean burst length in packets (Gilbert-Elliott)'),
    })
    .optional(),
  jitter: z
    .strictObject({ dist: z.enum(['normal', 'uniform', 'exponential']).default('normal'), sd: duration })
    .optional(),
  reorder: percent.optional().describe('fraction of packets held back behind the next one'),
  duplicate: percent.optional(),
});

const grandmasterEvent = z.union([
  z.strictObject({ at: duration, step: duration.describe('time step (may be negative)') }),
  z.strictObject({ at: duration, ppm: ppm.describe('frequency offset from now on') }),
  z.strictObject({ at: duration, announce: z.enum(['stop', 'start']) }),
  z.strictObject({ at: duration, followUp: z.enum(['missing', 'late', 'normal']) }),
  z.strictObject({ at: duration, clockClass: z.int().min(0).max(255) }),
  z.strictObject({ at: duration, priority1: z.int().min(0).max(255) }),
]);

const grandmaster = z.strictObject({
  name: z.string().default('gm'),
  kind: z.enum(['emulated', 'ptp4l']).default('emulated'),
  domain: z.int().min(0).max(127).default(0),
  priority1: z.int().min(0).max(255).default(128),
  priority2: z.int().min(0).max(255).default(128),
  clockClass: z.int().min(0).max(255).default(6),
  profile: z.enum(['aes67', 'ravenna']).default('aes67'),
  twoStep: z.boolean().default(true),
  ppm: ppm.default(0).describe('the grandmaster clock against true time'),
  events: z.array(grandmasterEvent).default([]),
});

const senderEvent = z.union([
  z.strictObject({ at: duration, ssrcChange: z.literal(true).describe('a sender reboot: new SSRC, new sequence') }),
  z.strictObject({ at: duration, stop: z.literal(true) }),
  z.strictObject({ at: duration, start: z.literal(true) }),
  z.strictObject({ at: duration, sessionChange: z.literal(true).describe('RAVENNA: push an RTSP ANNOUNCE with a new SDP') }),
]);

const sender = z.strictObject({
  name: z.string(),
  kind: z.enum(['aes67', 'dante', 'ravenna', 'pcap']),
  channels: z.int().min(1).max(64).default(2),
  rate: sampleRate.default(48_000),
  encoding: encoding.default('L24'),
  ptime: duration.default(1_000_000),
  destination: endpoint.optional().describe('multicast group:port; chosen by the lab when absent'),
  source: ipv4.optional().describe("the sender host's address; chosen by the lab when absent"),
  signal: signal.default({ sine: 997, level: -20 }),
  drift: ppm.default(0).describe("the sender's media clock against the grandmaster"),
  mediaclkOffset: z.int().min(0).max(0xffffffff).optional(),
  file: z.string().optional().describe('kind pcap: capture to replay, relative to the scenario file'),
  loop: z.int().min(1).default(1),
  events: z.array(senderEvent).default([]),
  /** Device input channels (1-based) this sender's channels land on; consecutive from 1 when absent. */
  map: z.array(z.int().min(1).max(128)).optional(),
});

const deviceStream = z.strictObject({
  name: z.string(),
  channels: z.int().min(1).max(64).default(2),
  encoding: encoding.default('L24'),
  ptime: duration.default(1_000_000),
  destination: endpoint,
  /** Device output channels (1-based) sent in this stream. */
  map: z.array(z.int().min(1).max(128)).optional(),
  sendOffset: duration.default(0).describe('fail-on-purpose: delay every packet by this much'),
});

const device = z.strictObject({
  kind: z.enum(['emulated', 'software-dut', 'remote']).default('emulated'),
  rate: sampleRate.default(48_000),
  buffer: z.int().min(16).max(4096).default(256).describe('IO buffer in frames'),
  inputs: z.int().min(1).max(128).default(128),
  outputs: z.int().min(1).max(128).default(128),
  linkOffset: duration.default(1_000_000).describe('playout delay behind the media clock'),
  loopback: z.union([z.boolean(), z.array(z.int().min(1).max(128))]).default(true),
  hostDrift: ppm.default(0).describe("the device's host clock against true time"),
  tx: z.array(deviceStream).default([]),
});

const receiver = z.strictObject({
  name: z.string(),
  kind: z.enum(['aes67', 'dante']),
  stream: z.string().describe('name of the device TX stream it subscribes to'),
  prefix: z.string().optional().describe("dante: the receiver's multicast prefix, e.g. 239.69.0.0/16"),
});

const bound = z.union([z.string(), z.number(), z.boolean()]);
const expectation = z.strictObject({
  min: bound.optional(),
  max: bound.optional(),
  equals: bound.optional(),
});

export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  description: z.string().optional(),
  note: z.string().optional().describe('the field note or issue this scenario reproduces'),
  clock: z.enum(['virtual', 'real']).default('virtual'),
  duration: duration,
  seed: z.int().min(0).default(1),
  network: impairments.default({}),
  grandmasters: z.array(grandmaster).default([]),
  senders: z.array(sender).default([]),
  device: device.default(device.parse({})),
  receivers: z.array(receiver).default([]),
  expect: z.record(z.string(), expectation).default({}),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;

/** The scenario file format as JSON Schema (input side: what a person writes). */
export function scenarioJsonSchema(): object {
  return z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' });
}
