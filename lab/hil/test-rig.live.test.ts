// Test rigs (lab/hil/test-rig.ts) of the same prefix at once: each has its own namespaces
// and writes its own lab namespace into its rig file (what a second copy of a HIL live file,
// in another CI job or checkout, does), and a rig says which of its namespaces another
// process deleted by name. No DUT is started: only the namespaces and rig files are judged.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canUseNetns } from '../../ci/netns.ts';
import { loadRig } from './rig.ts';
import { createTestRig, type TestRig } from './test-rig.ts';

const usable = canUseNetns();
const PREFIX = 'a67tr';
const SUBNET = 42;

describe.skipIf(!usable.ok)(`test rigs of one prefix at once (${usable.reason ?? 'root'})`, () => {
  it('two rigs of the same prefix each keep their own namespaces and name their own in their rig files', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'a67tr-'));
    const first = createTestRig(PREFIX, SUBNET, path.join(dir, 'a'));
    let second: TestRig | undefined;
    try {
      second = createTestRig(PREFIX, SUBNET, path.join(dir, 'b'));
      expect(first.replaced()).toBeUndefined();
      expect(second.replaced()).toBeUndefined();
      expect(first.lab.ns).not.toBe(second.lab.ns);
      // Same address, different namespaces: the rig file (as the runner loads it) says which.
      expect(first.lab.address).toBe(second.lab.address);
      expect(loadRig(first.writeRig('r')).rig.lab.netns).toBe(first.lab.ns);
      expect(loadRig(second.writeRig('r')).rig.lab.netns).toBe(second.lab.ns);
      await second.destroy();
      expect(first.replaced()).toBeUndefined();
      expect(first.net.exec('lab', 'ip', ['-br', 'addr', 'show', 'eth0'])).toMatch(new RegExp(`${first.lab.address.replace(/\./g, '\\.')}/24`));
    } finally {
      await second?.destroy();
      await first.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which of its namespaces another process deleted by name', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'a67tr-'));
    const rig = createTestRig(PREFIX, SUBNET, dir);
    try {
      execFileSync('ip', ['netns', 'delete', rig.lab.ns]);
      expect(rig.replaced()).toBe(`the network namespaces ${rig.lab.ns} are no longer the ones this test made: another process deleted them by name (and may have made its own of the same names), e.g. by hand or with ip -all netns delete; the runner enters the lab's namespace by name`);
    } finally {
      await rig.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
