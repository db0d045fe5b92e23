// The scenario file: what the lab builds around the device, what it does to the network,
// and what it expects. Quantities carry units as people write them ("150us", "0.5%",
// "-20dBFS"); the schema turns them into base units (ns, fractions, Hz, dB, ppm). Every
// key is strict and every key is used by the runner: a misspelt key, a key that does not
// apply to a sender's kind, or an expectation naming an unknown metric is an error naming
// it, never silently ignored.
import { z } from 'zod';
import { checkExpectation } from './metrics.ts';
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

const positiveDuration = duration.refine((v) => v > 0, 'must be longer than 0');
const ipv4 = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, 'an IPv4 address like 10.67.1.1');
const endpoint = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}:\d{1,5}$/, "an address and port like '239.69.1.1:5004'");
const multicastEndpoint = endpoint.refine((e) => {
  const first = Number(e.split('.')[0]);
  return first >= 224 && first <= 239;
}, 'the lab sends audio streams to multicast groups (224.0.0.0 to 239.255.255.255)');

export const SAMPLE_RATES = [44_100, 48_000, 88_200, 96_000, 176_400, 192_000, 352_800, 384_000] as const;
const sampleRate = frequency.refine((r) => (SAMPLE_RATES as readonly number[]).includes(r), {
  message: `sample rate must be one of ${SAMPLE_RATES.join(', ')} Hz`,
});
const encoding = z.enum(['L16', 'L24', 'L32']);
const channel = z.int().min(1).max(128);

const signal = z.union([
  z.strictObject({
    sine: frequency,
    level: level.default(-20),
    step: frequency.default(0).describe('channel c (from 0) plays sine + c x step, so a swapped channel shows'),
  }),
  z.strictObject({ noise: z.literal('white'), level: level.default(-20), seed: z.int().min(0).default(1) }),
  z.strictObject({ wav: z.string().describe('path relative to the scenario file') }),
  z.literal('silence'),
]);

const probe = z
  .strictObject({
    channel: z.int().min(1).max(64).describe("the sender's channel (1-based) that carries the probe instead of the signal"),
    degree: z.int().min(10).max(18).default(13).describe('MLS degree: period 2^degree - 1 samples, longer than any round trip'),
    level: level.default(-6),
  })
  .describe('an MLS latency probe on one channel (lab/signal/probe.ts); latency.* expectations need one');

const active = z
  .strictObject({ from: duration.default(0), until: duration.optional() })
  .describe('impairments act only in this window of scenario time (recovery.time is measured from its end)');

const impairments = z.strictObject({
  baseDelay: duration.default(30_000).describe("every packet's one-way delay through the switch (default 30us)"),
  delay: duration.optional().describe('constant one-way delay added to every impaired packet'),
  loss: percent.optional().describe('independent random loss'),
  burstLoss: z
    .strictObject({
      rate: percent.describe('long-run fraction of packets lost'),
      meanBurst: z.number().min(1).describe('mean burst length in packets (Gilbert-Elliott)'),
    })
    .optional(),
  jitter: z.strictObject({ dist: z.enum(['normal', 'uniform', 'exponential']).default('normal'), sd: duration }).optional(),
  reorder: z.strictObject({ rate: percent, hold: positiveDuration.describe('how long a reordered packet is held back') }).optional(),
  duplicate: percent.optional(),
  select: z
    .strictObject({
      traffic: z
        .array(z.enum(['media', 'ptp', 'discovery']))
        .min(1)
        .default(['media', 'ptp', 'discovery'])
        .describe('media: RTP audio; ptp: ports 319/320; discovery: SAP and mDNS'),
      path: z.enum(['both', 'to-device', 'from-device']).default('both').describe('to-device: into the DUT; from-device: out of it; both: every packet'),
    })
    .optional()
    .describe('which packets the impairments hit (default: every packet, as a real network would)'),
  active: active.optional(),
});

const grandmasterEvent = z.union([
  z.strictObject({ at: duration, step: duration.describe('time step (may be negative)') }),
  z.strictObject({ at: duration, ppm: ppm.describe('frequency offset from now on') }),
  z.strictObject({ at: duration, announce: z.enum(['stop', 'start']) }),
  z.strictObject({ at: duration, followUp: z.enum(['missing', 'normal']) }),
  z.strictObject({ at: duration, followUp: z.literal('late'), by: positiveDuration.describe('how late each Follow_Up is') }),
  z.strictObject({ at: duration, clockClass: z.int().min(0).max(255) }),
  z.strictObject({ at: duration, priority1: z.int().min(0).max(255) }),
  z.strictObject({ at: duration, priority2: z.int().min(0).max(255) }),
  z.strictObject({ at: duration, power: z.enum(['off', 'on']).describe('off: the grandmaster dies (sends nothing); on: it comes back') }),
]);

const grandmaster = z.strictObject({
  name: z.string().default('gm'),
  kind: z.literal('emulated', { error: "only 'emulated' grandmasters run in virtual time (ptp4l runs in real time only)" }).default('emulated'),
  domain: z.int().min(0).max(127).default(0),
  priority1: z.int().min(0).max(255).default(128),
  priority2: z.int().min(0).max(255).default(128),
  clockClass: z.int().min(0).max(255).default(6),
  profile: z.enum(['aes67', 'ravenna']).default('aes67'),
  twoStep: z.boolean().default(true),
  logSyncInterval: z.int().min(-7).max(1).default(-3),
  logAnnounceInterval: z.int().min(-3).max(4).default(1),
  ppm: ppm.default(0).describe('the grandmaster clock against true time'),
  events: z.array(grandmasterEvent).default([]),
});

const senderEvent = z.union([
  z.strictObject({
    at: duration,
    reboot: positiveDuration.describe('the sender is off this long, then comes back with a new SSRC and sequence (bondagit/aes67-linux-daemon#95)'),
  }),
  z.strictObject({
    at: duration,
    session: z
      .strictObject({ destination: multicastEndpoint.describe('the new group:port') })
      .describe('ravenna: the session changes; the sender pushes the new SDP by RTSP ANNOUNCE'),
  }),
]);

/** How the SDP a person pastes into the device is written (aes67 senders): the field's variants of the same stream. */
const sdpText = z
  .strictObject({
    ptime: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'a decimal number of milliseconds as an SDP writes it, e.g. 0.125, 0.12, 0.33')
      .optional()
      .describe("the a=ptime value exactly as written (the reference driver dropped the fraction of '0.125')"),
    rtpmapChannels: z.literal(false).optional().describe('false: a=rtpmap without a channel count (L24/48000), which RFC 3551 reads as 1 channel'),
  })
  .describe('aes67: write the SDP the device gets this way');

const SENDER_KINDS = ['aes67', 'dante', 'ravenna', 'pcap'] as const;
const sender = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 _-]{0,40}$/, 'letters, digits, spaces, dashes and underscores, at most 41 (it names RTP sessions and DNS-SD instances)'),
    kind: z.enum(SENDER_KINDS),
    channels: z.int().min(1).max(64).optional().describe('default 2; dante: at most 8 per flow'),
    rate: sampleRate.optional().describe('default 48 kHz; not for dante (48 kHz only)'),
    encoding: encoding.optional().describe('default L24; not for dante (L24 only); ravenna: L16 or L24'),
    ptime: duration.optional().describe('default 1ms; not for dante (1 ms only)'),
    destination: multicastEndpoint.optional().describe('multicast group:port; chosen by the lab when absent; not for dante (Dante picks its group in its prefix)'),
    source: ipv4.optional().describe("the sender host's address; chosen by the lab when absent"),
    signal: signal.optional().describe('default: sine 997 Hz -20 dBFS, +100 Hz per channel'),
    probe: probe.optional(),
    drift: ppm.default(0).describe("the sender's media clock against the grandmaster"),
    mediaclkOffset: z.int().min(0).max(0xffffffff).optional().describe('a=mediaclk:direct= (dante: a non-zero default of its own)'),
    initialSequence: z.int().min(0).max(0xffff).optional().describe('aes67: the first RTP sequence number (e.g. 65000 to wrap 16 bits early in the run)'),
    reboots: z
      .array(z.strictObject({ at: duration, pause: duration.default(0).describe('how long it sends nothing'), ssrc: z.int().min(0).max(0xffffffff).describe('the SSRC it comes back with'), sequence: z.int().min(0).max(0xffff).optional() }))
      .optional()
      .describe('aes67: the sender reboots at each `at`: silent for `pause`, back with a new SSRC and sequence, media clock still from PTP'),
    deviceName: z.string().optional().describe('dante and ravenna: the device name (default from the sender name)'),
    channelLabels: z.array(z.string().regex(/^[^\r\n]*$/, 'a single line')).optional().describe("dante: the channel labels its SDP lists in i= (comma-separated, so a label with a comma in it is ambiguous, as in the field)"),
    sapInterval: positiveDuration.optional().describe('dante: SAP announcement interval (default 30s)'),
    file: z.string().optional().describe('pcap: the capture to replay, relative to the scenario file'),
    loop: z.int().min(1).optional().describe('pcap: how many times to replay the capture (default 1)'),
    map: z.array(channel).optional().describe('device input channels (1-based) this sender lands on; the next free ones when absent'),
    sdp: sdpText.optional(),
    events: z.array(senderEvent).default([]).describe('aes67 and ravenna: reboot; ravenna: session change'),
  })
  .superRefine((s, ctx) => {
    const notFor = (key: keyof typeof s, why: string) => {
      if (s[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `not for a ${s.kind} sender: ${why}` });
    };
    if (s.kind === 'dante') {
      for (const k of ['rate', 'encoding', 'ptime'] as const) notFor(k, 'a Dante AES67 flow is 48 kHz, L24, 1 ms (remove it)');
      notFor('destination', 'a Dante device picks its multicast group in its prefix 239.69.0.0/16 (remove it)');
      if ((s.channels ?? 2) > 8) ctx.addIssue({ code: 'custom', path: ['channels'], message: 'a Dante AES67 flow carries at most 8 channels: split them into several senders' });
      if (s.mediaclkOffset === 0) ctx.addIssue({ code: 'custom', path: ['mediaclkOffset'], message: 'Dante writes a non-zero a=mediaclk:direct= offset' });
    } else notFor('sapInterval', 'only dante senders announce by SAP here');
    if (s.kind !== 'aes67') {
      notFor('initialSequence', 'only aes67 senders take a first sequence number here');
      notFor('reboots', 'only aes67 senders reboot here');
    }
    if (s.kind !== 'dante' && s.kind !== 'ravenna') notFor('deviceName', 'only dante and ravenna senders have a device name');
    if (s.kind !== 'dante') notFor('channelLabels', "only a dante sender lists its channel labels in the SDP here");
    if (s.channelLabels && s.channelLabels.length !== (s.channels ?? 2)) ctx.addIssue({ code: 'custom', path: ['channelLabels'], message: `lists ${s.channelLabels.length} labels for ${s.channels ?? 2} channels` });
    if (s.kind === 'ravenna' && s.encoding === 'L32') ctx.addIssue({ code: 'custom', path: ['encoding'], message: 'RAVENNA streams here are L16 or L24' });
    if (s.kind === 'pcap') {
      if (s.file === undefined) ctx.addIssue({ code: 'custom', path: ['file'], message: 'a pcap sender needs file: the capture to replay' });
      for (const k of ['channels', 'rate', 'encoding', 'ptime', 'signal', 'probe', 'mediaclkOffset'] as const) notFor(k, 'a replayed capture brings its own stream (its format is read from the capture)');
      if (s.drift !== 0) ctx.addIssue({ code: 'custom', path: ['drift'], message: 'not for a pcap sender: a replayed capture keeps its own timing' });
    } else {
      notFor('file', 'only pcap senders replay a file');
      notFor('loop', 'only pcap senders replay a file');
    }
    if (s.probe && s.probe.channel > (s.channels ?? 2)) ctx.addIssue({ code: 'custom', path: ['probe', 'channel'], message: `channel ${s.probe.channel} is past the sender's ${s.channels ?? 2} channels` });
    if (s.kind !== 'aes67') notFor('sdp', 'only the SDP of an aes67 sender is pasted into the device as written');
    if (s.sdp?.rtpmapChannels === false && (s.channels ?? 2) !== 1) {
      ctx.addIssue({ code: 'custom', path: ['sdp', 'rtpmapChannels'], message: `an rtpmap without a channel count means 1 channel (RFC 3551 §4.5): give channels: 1, not ${s.channels ?? 2}` });
    }
    if (s.sdp?.ptime !== undefined && s.ptime === undefined) ctx.addIssue({ code: 'custom', path: ['sdp', 'ptime'], message: 'give the stream\'s real ptime too (e.g. ptime: 125us), so the lab knows what the written value should mean' });
    s.events.forEach((e, k) => {
      if ('reboot' in e && s.kind !== 'aes67' && s.kind !== 'ravenna') ctx.addIssue({ code: 'custom', path: ['events', k, 'reboot'], message: `a ${s.kind} sender does not reboot here (aes67 and ravenna do)` });
      if ('session' in e && s.kind !== 'ravenna') ctx.addIssue({ code: 'custom', path: ['events', k, 'session'], message: 'only a ravenna sender changes its session (pushed by RTSP ANNOUNCE)' });
    });
    if (s.map && s.kind !== 'pcap' && s.map.length !== (s.channels ?? 2)) {
      ctx.addIssue({ code: 'custom', path: ['map'], message: `lists ${s.map.length} device channels for ${s.channels ?? 2} sender channels` });
    }
  });

const deviceStream = z.strictObject({
  name: z.string().min(1),
  channels: z.int().min(1).max(64).default(2),
  encoding: encoding.default('L24'),
  ptime: duration.default(1_000_000),
  destination: multicastEndpoint.optional().describe('chosen by the lab when absent'),
  map: z.array(channel).optional().describe('device output channels (1-based) sent in this stream; consecutive from 1 when absent'),
  sendOffset: duration
    .refine((v) => v >= 0, 'a packet cannot leave before its audio exists: give 0 or more')
    .default(0)
    .describe("added to every packet's send time: a device that sends late on purpose (fail-on-purpose scenarios)"),
});

/**
 * Something the device itself does at a time of the measured span (from its start). Run only by
 * the HIL runner, which does it to the DUT through its control endpoint at that point of its own
 * time line (after it saw the DUT locked and its streams come back): a DUT that fails on purpose.
 */
const txName = (example: string) =>
  z.string({ error: (iss) => (iss.input === undefined ? `is missing: name the device TX stream, e.g. ${example}` : 'the name of a device TX stream') }).min(1);
const deviceEvent = z.union([
  z.strictObject({
    at: duration,
    stopTx: txName('{ at: 6s, stopTx: hil-b }').describe("the device TX stream (its device.tx name, or the sender's name whose stream it returns) the device stops sending: the HIL runner removes it from the DUT"),
  }),
  z.strictObject({
    at: duration,
    startTx: txName('{ at: 9s, startTx: hil-b }').describe('a stream stopped before starts again, as it was (same id, group and format): the HIL runner adds it to the DUT again'),
  }),
], { error: 'a device event is { at: <time>, stopTx: <TX stream> } or { at: <time>, startTx: <TX stream> }, e.g. { at: 6s, stopTx: hil-b }' });

const device = z.strictObject({
  kind: z.literal('emulated', { error: "only the 'emulated' device (EmulatedDut in-process) runs in virtual time" }).default('emulated'),
  rate: sampleRate.default(48_000),
  buffer: z.int().min(16).max(4096).default(256).describe('IO buffer in frames'),
  inputs: z.int().min(1).max(128).default(128),
  outputs: z.int().min(1).max(128).default(128),
  linkOffset: positiveDuration.default(1_000_000).describe('playout delay behind the media clock'),
  loopback: z
    .union([z.literal(true), z.array(z.int().min(0).max(128))])
    .default(true)
    .describe('true: output o plays input o; a list: output o plays input list[o] (1-based, 0 = silent)'),
  ioWakeDelay: duration
    .refine((v) => v >= 0, 'give 0 (on time) or more')
    .default(0)
    .describe("host load: each IO cycle wakes up to this long after its predicted time (uniform, seeded by the scenario's seed), as the IO thread of a busy host does"),
  hostDrift: ppm.default(0).describe("without grandmasters: the rate error of the device's stand-in media clock (with grandmasters the device's own PTP slave gives its media clock)"),
  tx: z.array(deviceStream).optional().describe('the device\'s transmit streams; default: one per sender, same format, channels through the loopback'),
  events: z.array(deviceEvent).optional().describe('clock: real only: what the device does mid-run (the HIL runner makes the DUT do it), e.g. { at: 6s, stopTx: hil-b }, { at: 9s, startTx: hil-b }'),
});

const receiver = z.strictObject({
  name: z.string().min(1),
  kind: z.enum(['aes67', 'dante']),
  stream: z.string().describe('name of the device TX stream it subscribes to'),
  prefix: z.string().optional().describe("dante: the receiver's multicast prefix, e.g. 239.69.0.0/16"),
});

const bound = z.union([z.string(), z.number(), z.boolean()]);
const expectation = z
  .strictObject({
    min: bound.optional(),
    max: bound.optional(),
    equals: bound.optional(),
    failsOnPurpose: z
      .union([z.literal(true), z.string().min(1)])
      .optional()
      .describe('the scenario breaks this on purpose: it passes when the lab finds the limit broken (and, given a text, names that reason in its message)'),
  })
  .refine((e) => e.min !== undefined || e.max !== undefined || e.equals !== undefined, 'give min, max or equals');

export const scenarioSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    description: z.string().describe('what the scenario does'),
    proves: z.string().describe('what a pass proves (and what would make it fail)'),
    note: z.string().optional().describe('the field note or issue this scenario reproduces'),
    field: z
      .strictObject({
        failure: z.string().min(1).describe('what breaks in the field, as a row of the field-failure matrix'),
        note: z.string().min(1).describe('its source in FIELD-NOTES.md (an issue, a manual)'),
        figure: z.string().describe('the expectation whose measured value the matrix shows'),
      })
      .optional()
      .describe('a field failure (scenarios/field): one row of the field-failure matrix'),
    clock: z
      .enum(['virtual', 'real'], { error: "clock: 'virtual' (aes67-lab run) or 'real' (run only by the HIL runner, ci/hil/run --rig, against a device on a rig)" })
      .default('virtual'),
    duration: positiveDuration,
    seed: z.int().min(0).default(1),
    network: impairments.default(impairments.parse({})),
    grandmasters: z.array(grandmaster).default([]),
    senders: z.array(sender).min(1, 'a scenario needs at least one sender: the device is measured through its loopback'),
    device: device.default(device.parse({})),
    receivers: z.array(receiver).default([]),
    expect: z.record(z.string(), expectation).refine((e) => Object.keys(e).length > 0, 'a scenario must expect something: name at least one metric'),
  })
  .superRefine((s, ctx) => {
    const names = new Set<string>();
    s.senders.forEach((x, i) => {
      if (names.has(x.name)) ctx.addIssue({ code: 'custom', path: ['senders', i, 'name'], message: `'${x.name}' names two senders` });
      names.add(x.name);
    });
    const gms = new Set<string>();
    s.grandmasters.forEach((g, i) => {
      if (gms.has(g.name)) ctx.addIssue({ code: 'custom', path: ['grandmasters', i, 'name'], message: `'${g.name}' names two grandmasters: give each its own name` });
      gms.add(g.name);
      g.events.forEach((e, k) => {
        if (e.at > s.duration) ctx.addIssue({ code: 'custom', path: ['grandmasters', i, 'events', k, 'at'], message: `is after the scenario's end (${s.duration / 1e9} s)` });
      });
    });
    if (s.device.tx) {
      const tx = new Set<string>();
      s.device.tx.forEach((t, i) => {
        if (tx.has(t.name)) ctx.addIssue({ code: 'custom', path: ['device', 'tx', i, 'name'], message: `'${t.name}' names two streams` });
        tx.add(t.name);
        if (t.map && t.map.length !== t.channels) ctx.addIssue({ code: 'custom', path: ['device', 'tx', i, 'map'], message: `lists ${t.map.length} output channels for ${t.channels} stream channels` });
        for (const [k, c] of (t.map ?? []).entries()) if (c > s.device.outputs) ctx.addIssue({ code: 'custom', path: ['device', 'tx', i, 'map', k], message: `output ${c} is past the device's ${s.device.outputs} outputs` });
      });
    }
    const txNames = s.device.tx ? s.device.tx.map((t) => t.name) : s.senders.map((x) => x.name);
    (s.device.events ?? []).forEach((e, k) => {
      if (s.clock !== 'real') ctx.addIssue({ code: 'custom', path: ['device', 'events', k], message: "device events are made to happen by the HIL runner on a real DUT: set clock: real (ci/hil/run --rig ...), or remove device.events" });
      if (e.at >= s.duration) ctx.addIssue({ code: 'custom', path: ['device', 'events', k, 'at'], message: `is not before the scenario's end (${s.duration / 1e9} s)` });
      const [key, name] = 'stopTx' in e ? ['stopTx', e.stopTx] : ['startTx', e.startTx];
      if (!txNames.includes(name)) ctx.addIssue({ code: 'custom', path: ['device', 'events', k, key], message: `no device TX stream '${name}'; the device sends: ${txNames.join(', ')}` });
    });
    s.receivers.forEach((r, i) => {
      if (!txNames.includes(r.stream)) ctx.addIssue({ code: 'custom', path: ['receivers', i, 'stream'], message: `no device TX stream '${r.stream}'; the device sends: ${txNames.join(', ')}` });
      if (r.kind !== 'dante' && r.prefix !== undefined) ctx.addIssue({ code: 'custom', path: ['receivers', i, 'prefix'], message: 'only dante receivers have a multicast prefix' });
    });
    if (Array.isArray(s.device.loopback)) {
      if (s.device.loopback.length > s.device.outputs) ctx.addIssue({ code: 'custom', path: ['device', 'loopback'], message: `lists ${s.device.loopback.length} outputs; the device has ${s.device.outputs}` });
      s.device.loopback.forEach((c, o) => {
        if (c > s.device.inputs) ctx.addIssue({ code: 'custom', path: ['device', 'loopback', o], message: `input ${c} is past the device's ${s.device.inputs} inputs` });
      });
    }
    const a = s.network.active;
    if (a && a.until !== undefined && a.until <= a.from) ctx.addIssue({ code: 'custom', path: ['network', 'active', 'until'], message: 'must come after from' });
    if (s.device.hostDrift !== 0 && s.grandmasters.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['device', 'hostDrift'], message: "with grandmasters the device's media clock is its own PTP slave's: give the grandmaster a ppm instead (hostDrift is the stand-in clock's, without grandmasters)" });
    }
    if (s.field && !(s.field.figure in s.expect)) ctx.addIssue({ code: 'custom', path: ['field', 'figure'], message: `'${s.field.figure}' is not one of this scenario's expectations (${Object.keys(s.expect).join(', ')})` });
    s.senders.forEach((x, i) =>
      x.events.forEach((e, k) => {
        if (e.at > s.duration) ctx.addIssue({ code: 'custom', path: ['senders', i, 'events', k, 'at'], message: `is after the scenario's end (${s.duration / 1e9} s)` });
      }),
    );
    for (const [name, e] of Object.entries(s.expect)) {
      for (const problem of checkExpectation(name, e, s)) ctx.addIssue({ code: 'custom', path: ['expect', name, ...problem.path], message: problem.message });
    }
  });

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type SenderSpec = Scenario['senders'][number];
export type GrandmasterSpec = Scenario['grandmasters'][number];
export type GrandmasterEventSpec = GrandmasterSpec['events'][number];
export type DeviceSpec = Scenario['device'];
export type DeviceStreamSpec = NonNullable<DeviceSpec['tx']>[number];
export type DeviceEventSpec = NonNullable<DeviceSpec['events']>[number];
export type ReceiverSpec = Scenario['receivers'][number];
export type ImpairmentSpec = Scenario['network'];
export type SignalSpecInput = NonNullable<SenderSpec['signal']>;
export type ExpectationSpec = Scenario['expect'][string];
export type SenderEventSpec = SenderSpec['events'][number];
export type FieldSpec = NonNullable<Scenario['field']>;

/** The scenario file format as JSON Schema (input side: what a person writes). */
export function scenarioJsonSchema(): object {
  return z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' });
}
