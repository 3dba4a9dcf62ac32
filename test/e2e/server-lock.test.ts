/** The embedded server's inter-process lock: atomic creation, stale detection by pid liveness and start time. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { breakStaleLock, ownerAlive, readLock, ServerLock } from '../../client/temporal/server-lock';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-lock-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('one holder at a time; the holder adds the address; release frees it', () => {
  const file = path.join(dir, 'a', 'server.lock');
  const lock = ServerLock.tryAcquire(file);
  assert.ok(lock);
  assert.equal(ServerLock.tryAcquire(file), undefined, 'a second acquire fails while it is held');
  lock.update({ serverPid: 123, address: '127.0.0.1:7233', namespace: 'default' });
  const info = readLock(file)!;
  assert.equal(info.pid, process.pid);
  assert.equal(info.address, '127.0.0.1:7233');
  assert.ok(ownerAlive(info));
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['server.lock'], 'no temporary files left');
  lock.release();
  assert.ok(!fs.existsSync(file));
  assert.ok(ServerLock.tryAcquire(file), 'free again');
});

test('a lock whose owner died is stale and can be broken once', () => {
  const file = path.join(dir, 'b', 'server.lock');
  fs.mkdirSync(path.dirname(file));
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  fs.writeFileSync(file, JSON.stringify({ pid: Number(dead.stdout), since: new Date().toISOString() }));
  const seen = readLock(file)!;
  assert.equal(ownerAlive(seen), false);
  assert.equal(ServerLock.tryAcquire(file), undefined, 'a stale lock still blocks until broken');
  assert.equal(breakStaleLock(file, seen), true);
  assert.equal(breakStaleLock(file, seen), false, 'only one breaker wins');
  assert.ok(ServerLock.tryAcquire(file));
});

test('breaking does not remove a fresh lock taken after the stale one was read', () => {
  const file = path.join(dir, 'c', 'server.lock');
  fs.mkdirSync(path.dirname(file));
  const staleSeen = { pid: 999_999_999, since: '2000-01-01T00:00:00.000Z' };
  const fresh = ServerLock.tryAcquire(file)!; // someone else broke the stale lock and took a new one
  assert.equal(breakStaleLock(file, staleSeen), false);
  assert.equal(readLock(file)?.since, fresh.current.since, 'the fresh lock is back in place');
});

test('a live pid that is a different process (pid reuse) does not keep a lock alive', { skip: fs.existsSync('/proc/self/stat') ? false : 'needs /proc' }, async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)']);
  try {
    const info = { pid: child.pid!, pidStart: '1', since: new Date().toISOString() };
    assert.equal(ownerAlive(info), false, 'start time differs: not the process that took the lock');
    assert.equal(ownerAlive({ pid: child.pid!, since: info.since }), true);
  } finally {
    child.kill();
  }
});
