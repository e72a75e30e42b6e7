// The IPC plumbing every benchmark uses between its driver and its forked children: the driver
// sees a child as a Peer (typed messages, request/reply, bounded waits); a child answers with
// serveIpc(). Protocol: request `{cmd, id, ...args}`, reply `{type: 'reply', id, body|error}`.

/**
 * Child side: sends `{type: 'ready', ...ready}`, answers each request with the named handler's
 * (possibly async) result, and exits when the driver goes away, so a crashed driver never
 * leaves a server holding thousands of sockets behind.
 */
export function serveIpc({ ready, handlers }) {
  if (typeof process.send !== 'function') throw new Error('start me with fork() (IPC needed)');
  process.on('message', (msg) => {
    Promise.resolve()
      .then(() => {
        const handler = handlers[msg.cmd];
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

/** A child process seen as a message stream: wait for typed messages, make requests. */
export class Peer {
  constructor(name, child) {
    this.name = name;
    this.child = child;
    this.inbox = [];
    this.waiters = [];
    this.listeners = new Map();
    this.stderr = '';
    this.exitInfo = null;
    this.nextId = 1;
    child.stderr.on('data', (d) => {
      const s = d.toString();
      this.stderr = (this.stderr + s).slice(-4000);
      process.stderr.write(s.replace(/^(?=.)/gm, `  [${name}] `));
    });
    child.on('message', (m) => this.dispatch(m));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        const why = this.fatal ?? `exited (${signal ?? code})`;
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`${name} ${why} while waiting for ${w.what}${this.tail()}`));
        }
        resolve(this.exitInfo);
      });
    });
  }

  tail() {
    return this.stderr ? `\n--- ${this.name} stderr ---\n${this.stderr.trim()}` : '';
  }

  on(type, fn) {
    this.listeners.set(type, fn);
  }

  dispatch(m) {
    if (m.type === 'fatal') this.fatal = m.message;
    const fn = this.listeners.get(m.type);
    if (fn) return fn(m);
    const i = this.waiters.findIndex((w) => w.match(m));
    if (i === -1) return this.inbox.push(m);
    const [w] = this.waiters.splice(i, 1);
    clearTimeout(w.timer);
    w.resolve(m);
  }

  wait(type, timeoutMs, pred = () => true, what = type) {
    const match = (m) => m.type === type && pred(m);
    const i = this.inbox.findIndex(match);
    if (i !== -1) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    if (this.fatal) return Promise.reject(new Error(`${this.name}: ${this.fatal}`));
    if (this.exitInfo)
      return Promise.reject(new Error(`${this.name} already exited${this.tail()}`));
    return new Promise((resolve, reject) => {
      const w = { match, resolve, reject, what };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  send(msg) {
    if (this.child.connected) this.child.send(msg);
  }

  /** Sends `{cmd, id, ...args}` and resolves with the reply's body (see serveIpc). */
  async request(cmd, timeoutMs = 10_000, args = {}) {
    const id = this.nextId++;
    const reply = this.wait('reply', timeoutMs, (m) => m.id === id, `reply to "${cmd}"`);
    this.send({ ...args, cmd, id });
    const m = await reply;
    if (m.error) throw new Error(`${this.name} ${cmd}: ${m.error}`);
    return m.body;
  }

  /** Waits for exit, then SIGKILLs: nothing may outlive its round. */
  async stop(graceMs = 3000) {
    if (this.exitInfo) return this.exitInfo;
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const info = await this.exited;
    clearTimeout(t);
    return info;
  }

  kill() {
    if (!this.exitInfo) this.child.kill('SIGKILL');
  }
}
