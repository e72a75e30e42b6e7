import { describe, expect, it } from 'vitest';
import { type CloseFacts, normaliseDisconnect } from '../../src/socket.io.js';

const facts = (f: Partial<CloseFacts> = {}): CloseFacts => ({
  transport: 'websocket',
  wsCode: 0,
  errorMessage: '',
  shuttingDown: false,
  parseError: false,
  ...f,
});

/** The documented table, row by row (the integration tests reach each row over a real server). */
describe('normaliseDisconnect', () => {
  it.each([
    ['client namespace disconnect', {}, 'normal', 'client'],
    ['server namespace disconnect', {}, 'normal', 'server'],
    ['server shutting down', {}, 'server_shutdown', 'server'],
    ['ping timeout', {}, 'ping_timeout', 'server'],
    ['parse error', {}, 'protocol_error', 'server'],
    ['transport close', { transport: 'polling' }, 'normal', 'client'],
    ['transport close', { wsCode: 1000 }, 'normal', 'client'],
    ['transport close', { wsCode: 1005 }, 'normal', 'client'],
    ['transport close', { wsCode: 1001 }, 'going_away', 'client'],
    ['transport close', { wsCode: 1006 }, 'abnormal', 'client'],
    ['transport close', { wsCode: 4000 }, 'normal', 'client'],
    [
      'transport error',
      { transport: 'polling', errorMessage: 'poll connection closed prematurely' },
      'abnormal',
      'client',
    ],
    [
      'transport error',
      { transport: 'polling', errorMessage: 'overlap from client' },
      'protocol_error',
      'server',
    ],
    [
      'transport error',
      { transport: 'polling', errorMessage: 'invalid content' },
      'protocol_error',
      'server',
    ],
    [
      'transport error',
      { wsCode: 1006, errorMessage: 'RangeError: Max payload size exceeded' },
      'message_too_big',
      'server',
    ],
    [
      'transport error',
      { wsCode: 1006, errorMessage: 'RangeError: Invalid WebSocket frame: RSV1 must be clear' },
      'protocol_error',
      'server',
    ],
    ['transport error', { wsCode: 1006, errorMessage: 'write error' }, 'abnormal', 'client'],
    ['transport error', { wsCode: 1005, errorMessage: 'write error' }, 'normal', 'client'],
    ['forced close', {}, 'normal', 'server'],
    ['forced close', { shuttingDown: true }, 'server_shutdown', 'server'],
    ['forced close', { parseError: true }, 'protocol_error', 'server'],
    ['forced server close', {}, 'normal', 'server'],
    ['forced server close', { parseError: true }, 'protocol_error', 'server'],
    ['something new', {}, 'error', 'client'],
  ] as const)('%s %j -> %s by %s', (reason, f, want, initiator) => {
    expect(normaliseDisconnect(reason, facts(f))).toEqual({ reason: want, initiator });
  });
});
