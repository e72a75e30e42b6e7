import { describe, expect, it } from 'vitest';
import { formatQuantity, parseQuantity } from '../../src/index.js';

describe('quantities', () => {
  it('formats thresholds as canonical quantities', () => {
    expect(formatQuantity(350)).toBe('350');
    expect(formatQuantity(233.1)).toBe('233100m');
    expect(formatQuantity(0.5)).toBe('500m');
    expect(formatQuantity(233.3333)).toBe('233333m');
    expect(formatQuantity(0.0004)).toBe('0');
  });

  it('parses what the API server returns', () => {
    expect(parseQuantity('350')).toBe(350);
    expect(parseQuantity('350500m')).toBe(350.5);
    expect(parseQuantity('1.5k')).toBe(1500);
    expect(parseQuantity('2Ki')).toBe(2048);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('abc')).toBeNaN();
    expect(parseQuantity('')).toBeNaN();
  });
});
