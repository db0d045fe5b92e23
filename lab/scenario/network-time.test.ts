// The network's time follows the leading grandmaster (what the senders stamp from and the
// PTP figures compare against): checked on the failover scenario, whose file powers the
// primary off at 6 s; and with one grandmaster there is never a change to follow.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonBuilt, projectRoot } from '../../native/index.ts';
import { loadScenario } from './load.ts';
import { recordScenario } from './runner.ts';

const scenario = (name: string) => loadScenario(path.join(projectRoot, 'scenarios', name));

describe.skipIf(!addonBuilt())(`NetworkTime in a run (virtual time; ${addonBuilt() ? 'the native addon is built' : 'skipped: the native addon build/Release/aes67_native.node is missing (npm run build)'})`, () => {
  it('follows the backup grandmaster once it leads, after its primary powered off', () => {
    const { world } = recordScenario(scenario('impairments/gm-failover.yaml'), 1);
    expect(world.time.changes.map((c) => c.grandmaster)).toEqual(['backup']);
    // The backup leads once its announce receipt timeout passed (IEEE 1588 default: 3
    // announce intervals of 1 s, from the primary's last Announce at or before 6 s), seen at
    // the next 10 ms slice.
    expect(world.time.changes[0].atNs).toBeGreaterThan(6e9);
    expect(world.time.changes[0].atNs).toBeLessThanOrEqual(9.01e9);
    expect(world.time.leader?.name).toBe('backup');
  });

  it('with one grandmaster, has no change to follow', () => {
    const { world } = recordScenario(scenario('smoke/ptp-grandmaster.yaml'), 1);
    expect(world.grandmasters).toHaveLength(1);
    expect(world.time.changes).toEqual([]);
    expect(world.time.leader?.name).toBe(world.grandmasters[0].name);
  });
});
