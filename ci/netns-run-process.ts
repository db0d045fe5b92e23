// Run by ci/netns.test.ts as another process that owns network namespaces: one createNetns
// run per argument '<prefix>:<host>,<host>...' (subnet 92), a `sleep 600` in each run's
// first host (what a killed test leaves running), then one JSON line of the runs on stdout.
// Destroys them and exits when stdin closes; the test SIGKILLs it to leave them behind.
import { createNetns, type Netns } from './netns.ts';

const runs: Netns[] = [];
const out = process.argv.slice(2).map((arg) => {
  const [prefix, hosts] = arg.split(':');
  const net = createNetns({ prefix, hosts: hosts.split(','), subnet: 92 });
  runs.push(net);
  const sleeper = net.spawn(net.hosts[0].name, 'sleep', ['600']);
  return { prefix, run: net.run, names: [net.bridge, ...net.hosts.map((h) => h.ns)], sleeper: sleeper.pid };
});
process.stdout.write(`${JSON.stringify(out)}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  for (const net of runs) net.destroy();
  process.exit(0);
});
