// Writes reports/report.schema.json from lab/report/schema.ts:
//   npx tsx lab/report/export-schema.ts [out]
// A test checks the committed file matches, so it cannot go stale.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from './metadata.ts';
import { reportJsonSchema } from './schema.ts';

export const schemaFile = path.join(projectRoot, 'reports/report.schema.json');

export function schemaText(): string {
  return `${JSON.stringify(reportJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? schemaFile;
  writeFileSync(out, schemaText());
  console.log(`wrote ${out}`);
}
