import type { IncomingMessage } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { HandshakeOutcome } from '@tidewatch/conventions';
import { VERSION } from './version.js';

/** Starts and ends handshake spans; absent (undefined) when tracing is off, so off costs nothing. */
export interface HandshakeTracing {
  start(req: IncomingMessage, transport: string, endpoint: string): Span;
  end(span: Span, outcome: HandshakeOutcome): void;
}

/**
 * Handshake spans that continue the caller's trace: the W3C `traceparent` of the upgrade
 * request (through the globally registered propagator) becomes the span's parent, so a
 * WebSocket session shows up under the page or service that opened it.
 */
export function createHandshakeTracing(provider?: TracerProvider): HandshakeTracing {
  let tracer: Tracer | undefined;
  const get = () => {
    tracer ??= (provider ?? trace.getTracerProvider()).getTracer('@tidewatch/middleware', VERSION);
    return tracer;
  };
  return {
    start(req, transport, endpoint) {
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      return get().startSpan(
        `${transport} handshake`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': req.method ?? 'GET',
            'network.protocol.name': transport,
            'realtime.endpoint': endpoint,
          },
        },
        parent === ROOT_CONTEXT ? context.active() : parent,
      );
    },
    end(span, outcome) {
      span.setAttribute('realtime.handshake.outcome', outcome);
      if (outcome !== 'success') {
        span.setStatus({ code: SpanStatusCode.ERROR, message: `handshake ${outcome}` });
      }
      span.end();
    },
  };
}
