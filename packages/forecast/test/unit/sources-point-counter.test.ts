import { describe, expect, it } from 'vitest';
import { createPointCounter } from '../../src/sources/point-counter.js';

const ANSWER = JSON.stringify({
  status: 'success',
  data: {
    resultType: 'matrix',
    result: [
      {
        metric: { job: '[not a point]', quote: 'a \\" [ b' },
        values: [
          [1700000000, '1'],
          [1700000060, '[2]'],
          [1700000120, '3'],
        ],
      },
      { metric: {}, histograms: [[1700000000, { count: '1', buckets: [[0, '1', '2', '3']] }]] },
    ],
  },
  warnings: ['[a warning]'],
});

describe('point counter', () => {
  it('counts the points of a matrix answer, not brackets in strings', () => {
    expect(createPointCounter().feed(new TextEncoder().encode(ANSWER))).toBe(4);
  });

  it('the same count whatever the chunk boundaries', () => {
    const bytes = new TextEncoder().encode(ANSWER);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const counter = createPointCounter();
      counter.feed(bytes.subarray(0, cut));
      expect(counter.feed(bytes.subarray(cut))).toBe(4);
      expect(counter.points).toBe(4);
    }
  });
});
