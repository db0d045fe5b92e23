#!/usr/bin/env -S node --import tsx
// The `aes67-lab` command. Each verb lives in its own module; this file only wires them.
import { Command } from 'commander';
import { doctor, formatDoctor } from './doctor.ts';
import { registerAnalyze } from './analyze.ts';
import { registerDecode } from './decode.ts';
import { registerCapture } from './capture.ts';
import { registerReplay } from './replay.ts';
import { registerList } from './list.ts';
import { registerEmulateGrandmaster } from './emulate-grandmaster.ts';
import { registerReport } from './report.ts';
import { registerBugreport } from './bugreport.ts';
import { registerEmulateSender } from './emulate-sender.ts';
import { registerEmulateDante } from './emulate-dante.ts';
import { registerEmulateRavenna } from './emulate-ravenna.ts';
import { registerRun } from './run.ts';
import { registerPtp } from './ptp.ts';
import { registerHil } from './hil.ts';

const program = new Command();
program.name('aes67-lab').description('AES67 / RAVENNA / Dante interoperability lab').showHelpAfterError();

program
  .command('doctor')
  .description('print what this machine can do: addon, libpcap, root, and the real peers with versions')
  .option('--json', 'machine-readable output')
  .action((opts: { json?: boolean }) => {
    const report = doctor();
    console.log(opts.json ? JSON.stringify(report, null, 2) : formatDoctor(report));
  });

registerAnalyze(program);
registerDecode(program);
registerCapture(program);
registerReplay(program);
registerList(program);
registerEmulateGrandmaster(program);
registerReport(program);
registerBugreport(program);
registerEmulateSender(program);
registerEmulateDante(program);
registerEmulateRavenna(program);
registerRun(program);
registerPtp(program);
registerHil(program);

await program.parseAsync(process.argv);
