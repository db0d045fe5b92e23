// Types of native/src/virtual_step_binding.cc: one step of the virtual scheduler in one call.
import type { VirtualClock, VirtualNetwork } from './index.ts';

export interface VirtualStepAddon {
  /**
   * Advances `clock` to the earlier of the network's next delivery and `dueNs`, delivers
   * what is due, and writes [now, delivered since the previous step (1/0), the network's
   * delivered count] into `state` (state[2] = -1 before the first step). False, doing
   * nothing, when that moment is after `untilNs`.
   */
  virtualStep(network: VirtualNetwork, clock: VirtualClock, untilNs: number, dueNs: number, state: Float64Array): boolean;
}
