/** The users registry of an embedded server: the owner hands the server over only to a process that still runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { liveUsers, registerUser } from '../../client/temporal/server-users';

const tmpDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-users-'));

test('a registered user is listed to others, not to itself; leaving removes it', () => {
  const dir = tmpDir();
  const leave = registerUser(dir);
  assert.deepEqual(liveUsers(dir), [], 'this process is never its own heir');
  assert.ok(fs.existsSync(path.join(dir, `${process.pid}.json`)));
  leave();
  leave(); // idempotent
  assert.deepEqual(fs.readdirSync(dir), []);
  fs.rmSync(dir, { recursive: true });
});

test('another live process is listed; the entry of a dead one is removed', async () => {
  const dir = tmpDir();
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    fs.writeFileSync(path.join(dir, `${sleeper.pid}.json`), JSON.stringify({ pid: sleeper.pid }));
    fs.writeFileSync(path.join(dir, '999999999.json'), JSON.stringify({ pid: 999_999_999 }));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not an entry');
    assert.deepEqual(liveUsers(dir).map((u) => u.pid), [sleeper.pid]);
    assert.ok(!fs.existsSync(path.join(dir, '999999999.json')), 'stale entry removed');
    // The same pid with another start time is a reused pid, not the user that registered.
    fs.writeFileSync(path.join(dir, `${sleeper.pid}.json`), JSON.stringify({ pid: sleeper.pid, pidStart: '1' }));
    assert.deepEqual(liveUsers(dir), []);
  } finally {
    sleeper.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true });
  }
});
