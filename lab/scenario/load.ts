// Finding and loading scenario files. A directory stands for every *.yaml / *.yml below it,
// in name order, so `aes67-lab run scenarios/field` is a stable suite.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { scenarioSchema, type Scenario } from './schema.ts';
import { InputFileError, loadYamlWith } from './yaml-source.ts';

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
}

export function loadScenario(file: string): LoadedScenario {
  const scenario = loadYamlWith(file, scenarioSchema);
  // scenarios/field is the field-failure matrix: every scenario there is a row of it.
  if (!scenario.field && path.resolve(file).split(path.sep).join('/').includes('/scenarios/field/')) {
    throw new InputFileError(file, 1, 1, 'field', 'a scenario under scenarios/field is a row of the field-failure matrix: add field: { failure, note, figure } (the failure, its FIELD-NOTES source, the expectation the matrix shows)');
  }
  return { file, scenario };
}

/** Scenario files under the given files and directories (recursively), sorted. */
export function findScenarioFiles(paths: string[]): string[] {
  const out: string[] = [];
  const visit = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new InputFileError(p, 0, 0, '', 'no such file or directory');
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) visit(path.join(p, name));
    } else if (/\.ya?ml$/.test(p)) {
      out.push(p);
    }
  };
  for (const p of paths) visit(p);
  return out;
}

/** Loads every scenario; names must be unique across the set (reports use them as keys). */
export function loadScenarios(paths: string[]): LoadedScenario[] {
  const loaded = findScenarioFiles(paths).map(loadScenario);
  const seen = new Map<string, string>();
  for (const l of loaded) {
    const other = seen.get(l.scenario.name);
    if (other) throw new InputFileError(l.file, 1, 1, 'name', `'${l.scenario.name}' is also the name of ${other}: give each scenario its own name`);
    seen.set(l.scenario.name, l.file);
  }
  return loaded;
}
