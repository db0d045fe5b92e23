// `aes67-lab list [paths...] [--json]`: the scenarios a run would pick up, checked against
// the schema (an invalid file is reported with its line, like `run` would).
// `aes67-lab schema`: the scenario file format as JSON Schema, for editors and CI.
import type { Command } from 'commander';
import { loadScenarios } from '../scenario/load.ts';
import { scenarioJsonSchema } from '../scenario/schema.ts';
import { readOrExit } from './input-file.ts';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list scenarios (default: scenarios/), validating each file')
    .argument('[paths...]', 'scenario files or directories', ['scenarios'])
    .option('--json', 'machine-readable output')
    .action((paths: string[], opts: { json?: boolean }) => {
      const loaded = readOrExit(() => loadScenarios(paths));
      const rows = loaded.map(({ file, scenario: s }) => ({ name: s.name, file, clock: s.clock, durationS: s.duration / 1e9, description: s.description ?? '' }));
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      const width = Math.max(4, ...rows.map((r) => r.name.length));
      for (const r of rows) console.log(`${r.name.padEnd(width)}  ${r.clock.padEnd(7)}  ${String(r.durationS).padStart(6)} s  ${r.description}`);
      console.log(`${rows.length} scenario${rows.length === 1 ? '' : 's'}`);
    });

  program
    .command('schema')
    .description('print the scenario file format as JSON Schema')
    .action(() => console.log(JSON.stringify(scenarioJsonSchema(), null, 2)));
}
