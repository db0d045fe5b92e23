// Properties that misbehave on purpose, for bounded-property.test.ts: one hangs on a
// known input, one throws the wrong error, one allocates without bound, one holds.
import fc from 'fast-check';
import type { ParserProperty } from './parser-properties.ts';

export const properties: Record<string, ParserProperty<number>> = {
  'hangs on 7': {
    arbitrary: () => fc.constantFrom(1, 2, 7),
    check: (n) => {
      if (n === 7) for (;;);
    },
    describe: (n) => `the number ${n}`,
  },
  'throws a TypeError on 3': {
    arbitrary: () => fc.integer({ min: 0, max: 5 }),
    check: (n) => {
      if (n === 3) throw new TypeError('cannot read properties of undefined');
    },
    describe: (n) => `the number ${n}`,
  },
  'grows without bound': {
    arbitrary: () => fc.constant(0),
    check: () => {
      const hoard: number[][] = [];
      for (;;) hoard.push(new Array(1 << 16).fill(1));
    },
    describe: () => 'anything',
  },
  holds: {
    arbitrary: () => fc.integer(),
    check: () => {},
    describe: (n) => `the number ${n}`,
  },
};
