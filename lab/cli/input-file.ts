// A person's file (scenario, rig) that does not read ends the command with its message
// (file, line, the fix) and exit code 2, the CLI's code for bad input; anything else is a bug
// and is thrown as is.
import { InputFileError } from '../scenario/yaml-source.ts';

export function readOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof InputFileError) {
      console.error(`error: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
}
