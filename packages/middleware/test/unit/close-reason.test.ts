import { describe, expect, it } from 'vitest';
import {
  errorType,
  reasonForCode,
  reasonForError,
} from '../../src/adapters/shared/close-reason.js';

describe('close reason normalisation', () => {
  it.each([
    [1000, 'client', 'normal'],
    [1005, 'client', 'normal'],
    [1001, 'client', 'going_away'],
    [1001, 'server', 'server_shutdown'],
    [1012, 'server', 'server_shutdown'],
    [1002, 'client', 'protocol_error'],
    [1007, 'server', 'protocol_error'],
    [1006, 'client', 'abnormal'],
    [1008, 'server', 'auth'],
    [3000, 'server', 'auth'],
    [1009, 'server', 'message_too_big'],
    [1011, 'server', 'error'],
    [3008, 'server', 'idle_timeout'],
    [4000, 'server', 'normal'],
    [2999, 'client', 'error'],
  ] as const)('%i from the %s -> %s', (code, initiator, reason) => {
    expect(reasonForCode(code, initiator)).toBe(reason);
  });

  it('application codes can be mapped', () => {
    expect(reasonForCode(4001, 'server', { 4001: 'auth' })).toBe('auth');
    expect(reasonForCode(4002, 'server', { 4001: 'auth' })).toBe('normal');
  });

  it('normalises ws and system error codes', () => {
    expect(errorType(Object.assign(new Error(), { code: 'WS_ERR_INVALID_OPCODE' }))).toBe(
      'invalid_opcode',
    );
    expect(errorType(Object.assign(new Error(), { code: 'ECONNRESET' }))).toBe('econnreset');
    expect(errorType(new Error('no code'))).toBe('unknown');
    expect(errorType(null)).toBe('unknown');
    expect(reasonForError('unsupported_message_length')).toBe('message_too_big');
    expect(reasonForError('invalid_utf8')).toBe('protocol_error');
    expect(reasonForError('epipe')).toBe('error');
  });
});
