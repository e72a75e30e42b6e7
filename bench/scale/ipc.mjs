// Request/reply over the fork() IPC channel, for the scale benchmarks' drivers and children.
// Child side: serveIpc() answers {cmd, id, ...} with {type:'reply', id, body|error}. Parent
// side: Peer wraps a ChildProcess (see ./proc.mjs) and turns that into awaitable requests.

/**
 * Child side. Sends `{type:'ready', ...ready}` once, answers each `{cmd, id}` with the named
 * handler's (possibly async) result, and exits when the driver goes away: otherwise a crashed
 * driver would leave a server holding 10k sockets behind.
 */
export function serveIpc({ ready, handlers }) {
  if (typeof process.send !== 'function') throw new Error('start me with fork() (IPC needed)');
  process.on('message', (msg) => {
    const handler = handlers[msg.cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown cmd ${msg.cmd}`);
        return handler(msg);
      })
      .then(
        (body) => process.send({ type: 'reply', id: msg.id, body }),
        (err) => process.send({ type: 'reply', id: msg.id, error: String(err?.stack ?? err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', ...ready });
}

/** Parent side: a forked child seen as typed messages and requests. */
export class Peer {
  constructor(name, child) {
    this.name = name;
    this.child = child;
    this.nextId = 1;
    this.pending = new Map();
    this.waiters = [];
    this.stderr = '';
    this.fatal = null;
    child.stderr?.on('data', (d) => {
      const s = d.toString();
      this.stderr = (this.stderr + s).slice(-4000);
      process.stderr.write(s.replace(/^(?=.)/gm, `  [${name}] `));
    });
    child.on('message', (m) => {
      if (m.type === 'reply') {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.error) p.reject(new Error(`${name}: ${m.error}`));
        else p.resolve(m.body);
        return;
      }
      if (m.type === 'fatal') this.fatal = m.message;
      for (const w of [...this.waiters]) {
        if (w.type === m.type) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          clearTimeout(w.timer);
          w.resolve(m);
        }
      }
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const why = this.fatal ?? `exited (${signal ?? code})`;
        const err = new Error(`${name} ${why}${this.stderr ? `\n${this.stderr}` : ''}`);
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(err);
        }
        this.pending.clear();
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(err);
        }
        resolve({ code, signal });
      });
    });
  }

  /** Resolves with the next message of `type`; rejects after `timeoutMs` or if the child dies. */
  waitFor(type, timeoutMs) {
    return new Promise((resolve, reject) => {
      const w = { type, resolve, reject };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms${this.tail()}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Sends `{cmd, ...extra}` and resolves with the reply body. */
  request(cmd, extra = {}, timeoutMs = 60_000) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: '${cmd}' unanswered after ${timeoutMs} ms${this.tail()}`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ cmd, id, ...extra });
    });
  }

  tail() {
    return this.stderr ? `\n--- ${this.name} stderr ---\n${this.stderr}` : '';
  }

  /** Asks the child to exit, and kills it if it has not after `graceMs`. */
  async close(graceMs = 3000) {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.request('exit', {}, graceMs).catch(() => {});
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}
