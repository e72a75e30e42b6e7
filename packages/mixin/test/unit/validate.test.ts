import { describe, expect, it } from 'vitest';
import { mixinConfig } from '../../src/config.js';
import { DeployConfigError, deployConfig } from '../../src/deploy/config.js';
import { ConfigError, checker, show } from '../../src/validate.js';

/** What `run` throws. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('option validation', () => {
  it('formats every failure as `<scope>: <field> must be <expected>, got <value>`', () => {
    const check = checker('test config');
    expect(() => check('a.b', 1, true, 'anything')).not.toThrow();
    const error = thrown(() => check('a.b', [1, 'x'], false, 'a string'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as ConfigError).field).toBe('a.b');
    expect((error as Error).message).toBe('test config: a.b must be a string, got [1,"x"]');
    expect([show(undefined), show(Number.NaN), show('x')]).toEqual(['nothing', 'null', '"x"']);
  });

  it('mixinConfig throws a ConfigError (a RangeError) naming the field', () => {
    const error = thrown(() => mixinConfig({ handshakeSlo: { objective: 1 } }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).name).toBe('RangeError');
    expect((error as ConfigError).field).toBe('handshakeSlo.objective');
    expect((error as Error).message).toBe(
      'mixinConfig: handshakeSlo.objective must be a share between 0 and 1 (exclusive), got 1',
    );
    expect(() => mixinConfig({ metricPrefix: 'realtime-' })).toThrow(
      'mixinConfig: metricPrefix must be a metric-name prefix like "realtime_", got "realtime-"',
    );
    expect(() => mixinConfig({ runbookUrlPattern: 'https://x/runbooks' })).toThrow(
      'mixinConfig: runbookUrlPattern must be a URL containing {{alertname}}, got "https://x/runbooks"',
    );
    expect(() => mixinConfig({ fleetLabels: [] })).toThrow(
      'mixinConfig: fleetLabels must be at least one label, got []',
    );
  });

  it('deployConfig throws its own DeployConfigError, a ConfigError', () => {
    const error = thrown(() => deployConfig({ port: 0 }));
    expect(error).toBeInstanceOf(DeployConfigError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).name).toBe('DeployConfigError');
    expect((error as DeployConfigError).field).toBe('port');
    expect((error as Error).message).toBe('deploy config: port must be an integer 1..65535, got 0');
    // Closed sets come from the conventions and are listed sorted.
    expect(() => deployConfig({ source: 'file' as 'scrape' })).toThrow(
      'deploy config: source must be "prometheus" or "scrape", got "file"',
    );
  });
});
