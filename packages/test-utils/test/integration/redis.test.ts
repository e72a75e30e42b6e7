import { existsSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../../src/index.js';

/** Sends one inline command and resolves with the first reply line (or the error). */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (v: string) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(5_000, () => done('timeout'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(`error ${err.code}`));
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      const end = answer.indexOf('\r\n');
      // A bulk reply ($n) carries its value on the next line.
      if (answer.startsWith('$') && answer.indexOf('\r\n', end + 2) !== -1) {
        done(answer.slice(end + 2, answer.indexOf('\r\n', end + 2)));
      } else if (!answer.startsWith('$') && end !== -1) done(answer.slice(0, end));
    });
  });
}

describe('startRedis', () => {
  it('runs redis-server on 127.0.0.1 without persistence, and kill/restart/stop by PID', async () => {
    const redis = await startRedis();
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(existsSync(redis.dir)).toBe(true);
      expect(await command(redis.port, 'PING')).toBe('+PONG');
      expect(await command(redis.port, 'SET k v')).toBe('+OK');
      expect(await command(redis.port, 'GET k')).toBe('v');
      // No persistence: RDB snapshots off and no append-only file.
      const info = await new Promise<string>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: redis.port }, () =>
          s.write('CONFIG GET save\r\nCONFIG GET appendonly\r\n'),
        );
        let text = '';
        s.on('data', (c) => {
          text += c.toString();
          if (text.split('\r\n').length >= 9) {
            s.destroy();
            resolve(text);
          }
        });
      });
      expect(info.split('\r\n')).toEqual([
        '*2',
        '$4',
        'save',
        '$0',
        '',
        '*2',
        '$10',
        'appendonly',
        '$2',
        'no',
        '',
      ]);

      const firstPid = redis.pid;
      await redis.kill();
      expect(await command(redis.port, 'PING')).toBe('error ECONNREFUSED');
      await redis.restart();
      expect(redis.pid).not.toBe(firstPid);
      expect(await command(redis.port, 'PING')).toBe('+PONG');
      // Nothing survived the restart: nothing was persisted.
      expect(await command(redis.port, 'EXISTS k')).toBe(':0');
    } finally {
      await redis.stop();
    }
    expect(existsSync(redis.dir)).toBe(false);
    expect(await command(redis.port, 'PING')).toBe('error ECONNREFUSED');
    await redis.stop(); // idempotent
  });
});
