/**
 * The `sse` transport: a small EventSource on `node:http` (Node 20 has none built in). A
 * stream is `GET <url>?room=..&token=..` with `Accept: text/event-stream`; it is open once
 * a 2xx `text/event-stream` answer arrives. It resends `Last-Event-ID` on reconnect, like
 * a browser. Messages are `POST`ed as JSON to `session.ssePostUrl` when set.
 *
 * Closes: ours is a half-close (FIN) and then waiting for the server to hang up, so the
 * server sees the client leave normally and nothing it sent before is lost; a drop resets
 * the connection (RST), which the middleware counts as `abnormal`.
 */
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Room } from '../message.js';
import { SseParser } from './sse-parser.js';
import type { Connection, ConnectionHooks, Driver, DriverContext } from './types.js';
import { authHeaders, failureOf, ownSeqAt, withToken } from './util.js';

/** POSTs in flight at once per generator (the rest wait in the agent's queue). */
const POST_SOCKETS = 64;

class SseConnection implements Connection {
  private readonly ctx: DriverContext;
  private readonly hooks: ConnectionHooks;
  private readonly req: ClientRequest;
  private readonly marker: string;
  private readonly idPrefix: string;
  private readonly post: ((body: string, bytes: number) => void) | null;
  private socket: Socket | null = null;
  private isOpen = false;
  private ending: 'client' | 'drop' | null = null;
  private aborted = false;
  private finished = false;

  constructor(
    ctx: DriverContext,
    url: URL,
    headers: Record<string, string>,
    hooks: ConnectionHooks,
    post: ((body: string, bytes: number) => void) | null,
  ) {
    this.ctx = ctx;
    this.hooks = hooks;
    this.idPrefix = `${hooks.cid}-`;
    this.marker = `"id":"${this.idPrefix}`;
    this.post = post;
    const get = url.protocol === 'https:' ? https.get : http.get;
    const req = get(url, {
      headers,
      agent: false,
      timeout: ctx.options.limits.handshakeTimeoutMs,
    });
    this.req = req;
    req.on('socket', (s: Socket) => {
      this.socket = s;
    });
    req.on('timeout', () => {
      // The handshake timeout applies until the stream opens; an idle open stream is fine.
      if (!this.isOpen) this.fail('timeout', 0);
    });
    req.on('error', (err) => {
      if (!this.isOpen) {
        const f = failureOf(err);
        this.fail(f.reason, f.status);
      }
    });
    req.on('response', (res) => this.onResponse(res));
  }

  private fail(reason: string, status: number): void {
    if (this.finished || this.aborted) return;
    this.finished = true;
    this.req.destroy();
    this.hooks.failed(reason, status);
  }

  private onResponse(res: IncomingMessage): void {
    const status = res.statusCode ?? 0;
    const type = String(res.headers['content-type'] ?? '');
    if (status < 200 || status >= 300 || !/^\s*text\/event-stream\s*(;|$)/i.test(type)) {
      res.resume();
      this.fail(
        status >= 300 ? `http-${status}` : 'not-event-stream',
        status >= 300 ? status : 400,
      );
      return;
    }
    this.req.setTimeout(0);
    const stats = this.ctx.stats;
    const parser = new SseParser({
      event: (bytes, data, id) => {
        if (this.aborted) return;
        stats.msgReceived++;
        stats.bytesReceived += bytes;
        if (id !== null) this.hooks.resumeId = id;
        const i = data.indexOf(this.marker);
        if (i !== -1) {
          const seq = ownSeqAt(data, i + this.marker.length);
          if (seq > 0) this.hooks.own(seq);
        }
      },
    });
    res.on('data', (chunk: Buffer) => parser.push(chunk));
    // `end` means the server finished the response (a complete chunked body): a clean close.
    let complete = false;
    res.on('end', () => {
      complete = true;
    });
    res.on('error', () => {});
    res.on('close', () => this.onClose(complete));
    this.isOpen = true;
    this.hooks.opened();
  }

  private onClose(complete: boolean): void {
    if (this.aborted || this.finished) return;
    this.finished = true;
    this.isOpen = false;
    if (this.ending !== null) this.hooks.closed(this.ending, '');
    else if (complete) this.hooks.closed('server', '');
    else this.hooks.closed('abnormal', 'close-aborted');
  }

  join(_room: Room): void {
    // Rooms travel in the stream URL (`?room=`); nothing to send.
  }

  send(room: Room, seq: number): void {
    if (this.post === null || !this.isOpen || this.ending !== null) return;
    const body = this.ctx.messages.frame(room, this.idPrefix + seq, Date.now());
    this.post(body, body.length + room.extraBytes);
  }

  ping(): boolean {
    return false;
  }

  close(): void {
    if (!this.isOpen || this.ending !== null) return;
    this.ending = 'client';
    // FIN only; the server answers by closing, and what it sent until then still arrives.
    this.socket?.end();
  }

  drop(): void {
    if (!this.isOpen || this.ending !== null) return;
    this.ending = 'drop';
    const s = this.socket;
    if (s !== null && typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
    else this.req.destroy();
  }

  abort(): void {
    this.aborted = true;
    this.req.destroy();
  }
}

/** The `sse` driver. */
export function sseDriver(ctx: DriverContext): Driver {
  const { options } = ctx;
  const base = withToken(options.url, options.token);
  const headers = {
    accept: 'text/event-stream',
    'cache-control': 'no-cache',
    ...authHeaders(options.headers, options.token),
  };
  const postUrl = options.session.ssePostUrl;
  const agentOpts = { keepAlive: true, maxSockets: POST_SOCKETS };
  const agent =
    postUrl === undefined
      ? undefined
      : postUrl.protocol === 'https:'
        ? new https.Agent(agentOpts)
        : new http.Agent(agentOpts);
  const postHeaders = {
    'content-type': 'application/json',
    ...authHeaders(options.headers, options.token),
  };
  const post =
    postUrl === undefined
      ? null
      : (body: string, bytes: number) => {
          const stats = ctx.stats;
          const request = postUrl.protocol === 'https:' ? https.request : http.request;
          const req = request(postUrl, {
            method: 'POST',
            agent,
            headers: { ...postHeaders, 'content-length': bytes },
          });
          req.on('response', (res) => res.resume());
          req.on('error', () => stats.fail('post-error'));
          req.end(body);
          stats.msgSent++;
          stats.bytesSent += bytes;
        };
  return {
    settleBeforeClose: false,
    connect(hooks, rooms) {
      const url = new URL(base.href);
      for (const r of rooms) url.searchParams.append('room', r.name);
      // Resent on reconnect, as a browser's EventSource does (the server counts a resume).
      const last = hooks.resumeId;
      const h = last === null ? headers : { ...headers, 'last-event-id': last };
      return new SseConnection(ctx, url, h, hooks, post);
    },
    close() {
      agent?.destroy();
    },
  };
}
