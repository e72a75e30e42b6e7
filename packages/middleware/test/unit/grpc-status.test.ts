import { describe, expect, it } from 'vitest';
import {
  type CallEnd,
  closeOutcome,
  countsAsError,
  GrpcStatus,
  handshakeOutcome,
  statusType,
} from '../../src/adapters/grpc/status.js';

const end = (over: Partial<CallEnd>): CallEnd => ({
  code: -1,
  byGrpc: false,
  deadlinePassed: false,
  shutdown: 'none',
  ...over,
});

describe('gRPC status normalisation', () => {
  it.each([
    [{ code: GrpcStatus.OK }, 'normal', 'server', 'success'],
    [{ code: GrpcStatus.CANCELLED }, 'cancelled', 'server', 'error'],
    [
      { code: GrpcStatus.DEADLINE_EXCEEDED, byGrpc: true },
      'deadline_exceeded',
      'client',
      'aborted',
    ],
    [{ code: GrpcStatus.RESOURCE_EXHAUSTED }, 'resource_exhausted', 'server', 'error'],
    [{ code: GrpcStatus.RESOURCE_EXHAUSTED, byGrpc: true }, 'message_too_big', 'server', 'error'],
    [{ code: GrpcStatus.UNAVAILABLE }, 'unavailable', 'server', 'error'],
    [{ code: GrpcStatus.UNAVAILABLE, shutdown: 'graceful' }, 'server_shutdown', 'server', 'error'],
    [{ code: GrpcStatus.UNAUTHENTICATED }, 'auth', 'server', 'rejected'],
    [{ code: GrpcStatus.PERMISSION_DENIED }, 'auth', 'server', 'rejected'],
    [{ code: GrpcStatus.INTERNAL }, 'error', 'server', 'error'],
    [{ code: 99 }, 'error', 'server', 'error'],
    [{}, 'cancelled', 'client', 'aborted'],
    [{ deadlinePassed: true }, 'deadline_exceeded', 'client', 'aborted'],
    [{ shutdown: 'forced', deadlinePassed: true }, 'server_shutdown', 'server', 'error'],
    [{ shutdown: 'graceful' }, 'cancelled', 'client', 'aborted'],
  ] as const)('%o -> %s by the %s (handshake %s)', (input, reason, initiator, outcome) => {
    const out = closeOutcome(end(input));
    expect(out.reason).toBe(reason);
    expect(out.initiator).toBe(initiator);
    expect(handshakeOutcome(out)).toBe(outcome);
  });

  it('a deadline without a status still counts as the DEADLINE_EXCEEDED error', () => {
    const out = closeOutcome(end({ deadlinePassed: true }));
    expect(out.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(countsAsError(out.code)).toBe(true);
    expect(countsAsError(closeOutcome(end({})).code)).toBe(false);
  });

  it('errors are every status but OK and CANCELLED, typed by lower-case name', () => {
    expect(countsAsError(GrpcStatus.OK)).toBe(false);
    expect(countsAsError(GrpcStatus.CANCELLED)).toBe(false);
    expect(countsAsError(GrpcStatus.UNKNOWN)).toBe(true);
    expect(statusType(GrpcStatus.DEADLINE_EXCEEDED)).toBe('deadline_exceeded');
    expect(statusType(GrpcStatus.UNAUTHENTICATED)).toBe('unauthenticated');
    expect(statusType(42)).toBe('status_42');
    expect(Object.keys(GrpcStatus)).toHaveLength(17);
  });
});
