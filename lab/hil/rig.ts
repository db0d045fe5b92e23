// The rig file of the hardware-in-the-loop runner (ci/hil/run --rig rig.yaml): where the
// lab sits on the real network, which device is under test and how to reach its control
// endpoint, how the device's inputs are wired to its outputs (the loopback map the runner
// checks by ear, not by trust), and who is the PTP grandmaster. Checked with zod; a mistake
// is an error naming the file, the line and the fix (lab/scenario/yaml-source.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { InputFileError, loadYamlWith } from '../scenario/yaml-source.ts';

const ipv4 = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, 'an IPv4 address like 10.67.160.1')
  .refine((a) => a.split('.').every((o) => Number(o) <= 255), 'each octet of an IPv4 address is 0-255');

const eui64 = z
  .string({ error: 'the expected grandmaster identity as SDP writes it, e.g. 00-1D-C1-FF-FE-12-34-56' })
  .regex(/^[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){7}$/, 'an EUI-64 clock identity as SDP writes it, e.g. 00-1D-C1-FF-FE-12-34-56')
  .transform((s) => s.toUpperCase());

/** "8MiB", "512KiB", "4MB", "1000kB" -> KiB. */
export function parseSizeKiB(text: string | number): number {
  if (typeof text === 'number') throw new Error(`${text} has no unit: write e.g. ${text}KiB or ${text}MiB`);
  const m = /^\s*(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB|kB|KB|MB|GB)\s*$/.exec(text);
  if (!m) throw new Error(`'${text}' is not a size: write e.g. 512KiB or 8MiB`);
  const bytes: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, kB: 1000, KB: 1000, MB: 1e6, GB: 1e9 };
  return (Number(m[1]) * bytes[m[2]]) / 1024;
}

const size = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseSizeKiB(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const control = z
  .string()
  .regex(/^(unix:\/.+|http:\/\/[^/\s]+:\d{1,5}\/?)$/, 'the control endpoint as aes67-dut prints it: "unix:/path/to/dut.sock" or "http://127.0.0.1:8067"');

export const rigSchema = z
  .strictObject({
    name: z.string().min(1).default('rig').describe('names the rig in reports'),
    lab: z.strictObject(
      {
        interface: z.string().min(1).describe("the lab's network interface on the DUT's network, e.g. eth0 or en7"),
        netns: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a network namespace name (ip netns list)')
          .optional()
          .describe('the network namespace the lab runs in (Linux, root): the runner re-runs itself inside it'),
        address: ipv4.describe("the lab's IPv4 address on that interface (the senders' source)"),
      },
      { error: (iss) => (iss.input === undefined ? 'is missing: name the lab\'s side, e.g. lab: { interface: eth0, address: 10.0.0.2 }' : undefined) },
    ),
    dut: z
      .strictObject({
        kind: z.enum(['software-dut', 'macos-driver'], { error: "kind: 'software-dut' (build/driver/host/aes67-dut) or 'macos-driver'" }),
        address: ipv4.describe("the DUT's IPv4 address: its streams come from it"),
        control: control.describe("the DUT's control endpoint (JSON over HTTP, lab/dut/dut-client.ts)"),
        process: z
          .strictObject({
            pid: z.int().min(1).optional().describe('the DUT process id on this machine'),
            pidFile: z.string().optional().describe('a file holding it (relative to the rig file)'),
            rssGrowthMax: size.describe('largest growth of its resident memory allowed from the start of the measurement to the end (e.g. 4MiB)'),
          })
          .refine((p) => (p.pid === undefined) !== (p.pidFile === undefined), 'give exactly one of pid or pidFile')
          .optional()
          .describe("software-dut on this machine: its memory is read from /proc (RSS at start and end) and judged as dut.rssGrowth"),
      })
      .superRefine((d, ctx) => {
        if (d.kind === 'macos-driver' && d.process) {
          ctx.addIssue({ code: 'custom', path: ['process'], message: "reading a macOS driver's memory (coreaudiod) is not implemented: remove process for kind macos-driver" });
        }
      }),
    loopback: z
      .record(z.string().regex(/^\d+$/, 'input channel numbers (1-based)'), z.int().min(1).max(128), {
        error: (iss) => (iss.input === undefined ? 'is missing: say how the DUT is wired, input -> output, e.g. loopback: { 1: 1, 2: 2 }' : 'a map of DUT input -> output channel, e.g. { 1: 1, 2: 2 }'),
      })
      .refine((m) => Object.keys(m).length > 0, 'name at least one input -> output pair, e.g. { 1: 1, 2: 2 }')
      .superRefine((m, ctx) => {
        const outs = new Map<number, string>();
        for (const [i, o] of Object.entries(m)) {
          if (Number(i) < 1 || Number(i) > 128) ctx.addIssue({ code: 'custom', path: [i], message: `input ${i} is out of range: use 1-128` });
          if (outs.has(o)) ctx.addIssue({ code: 'custom', path: [i], message: `output ${o} is also fed by input ${outs.get(o)}: one input per output` });
          outs.set(o, i);
        }
      })
      .describe('how the DUT is wired: DUT input channel -> the output channel that plays it (1-based)'),
    ptp: z
      .discriminatedUnion('grandmaster', [
        z.strictObject({ grandmaster: z.literal('lab') }),
        z.strictObject({ grandmaster: z.literal('external'), identity: eui64.describe("the expected grandmaster's clock identity") }),
      ], { error: "ptp: { grandmaster: lab } or { grandmaster: external, identity: 00-1D-C1-FF-FE-12-34-56 }" })
      .default({ grandmaster: 'lab' })
      .describe("lab: the lab's emulated grandmaster (the scenario's) on the lab interface; external: a grandmaster on the network the DUT must follow"),
    multicast: z
      .string()
      .regex(/^239\.\d{1,3}\.\d{1,3}$/, "the first three octets of the groups the runner picks, e.g. '239.69.160'")
      .default('239.69.160')
      .describe('senders get <prefix>.1, .2 ...; DUT transmit streams <prefix>.101, .102 ... (unless the scenario names them)'),
    capture: z
      .strictObject({ seconds: z.number().min(1).max(600).default(20).describe('how long the runner captures on the lab interface (from when the DUT is configured)') })
      .default({ seconds: 20 }),
  })
  .superRefine((r, ctx) => {
    if (r.lab.address === r.dut.address) ctx.addIssue({ code: 'custom', path: ['dut', 'address'], message: "is the lab's address too: the DUT is another host" });
  });

export type Rig = z.output<typeof rigSchema>;

export interface LoadedRig {
  file: string;
  rig: Rig;
  /** The DUT process id (rig pid or pidFile), when the rig names one. */
  dutPid?: number;
}

export function loadRig(file: string): LoadedRig {
  const rig = loadYamlWith(file, rigSchema);
  let dutPid = rig.dut.process?.pid;
  const pidFile = rig.dut.process?.pidFile;
  if (pidFile !== undefined) {
    const f = path.resolve(path.dirname(file), pidFile);
    let text: string;
    try {
      text = readFileSync(f, 'utf8').trim();
    } catch (e) {
      throw new InputFileError(file, 0, 0, 'dut.process.pidFile', `cannot read ${f}: ${(e as Error).message}; give the DUT's pid file or its pid`);
    }
    if (!/^\d+$/.test(text)) throw new InputFileError(file, 0, 0, 'dut.process.pidFile', `${f} holds '${text.slice(0, 40)}', not a process id`);
    dutPid = Number(text);
  }
  return { file, rig, ...(dutPid !== undefined ? { dutPid } : {}) };
}

/** The output channel of `input` on the rig (undefined: not wired). */
export function loopbackOutput(rig: Rig, input: number): number | undefined {
  return rig.loopback[String(input)];
}

/** The input that feeds `output` on the rig (undefined: none). */
export function loopbackInput(rig: Rig, output: number): number | undefined {
  for (const [i, o] of Object.entries(rig.loopback)) if (o === output) return Number(i);
  return undefined;
}
