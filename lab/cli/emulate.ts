// `aes67-lab emulate <device>`: one parent command; each emulated device (grandmaster,
// sender, dante, ravenna, ...) adds its own subcommand from its own module through
// emulateCommand(), so the devices stay in separate files.
import type { Command } from 'commander';

export function emulateCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'emulate') ??
    program.command('emulate').description('run an emulated network device on a real interface until interrupted or --seconds')
  );
}
