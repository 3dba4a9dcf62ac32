/**
 * Who uses an embedded server besides its owner: every nnunet process that borrows it leaves a file
 * `<results>/.temporal/users/<pid>.json` (pid and start time) while it does. The owner reads the live ones when
 * it finishes, to hand the server over instead of stopping it under them. Files of killed processes are
 * recognised (gone, or pid reused) and removed by the reader.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlive, processStartTime } from './server-lock';

export interface ServerUser {
  pid: number;
  pidStart?: string;
}

const userFile = (dir: string, pid: number): string => path.join(dir, `${pid}.json`);

function stillRunning(user: ServerUser): boolean {
  if (!Number.isInteger(user.pid) || !isAlive(user.pid)) return false;
  const now = processStartTime(user.pid);
  return user.pidStart === undefined || now === undefined || now === user.pidStart;
}

/** Registers this process as a user of the server; returns the (idempotent) call that unregisters it. */
export function registerUser(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = userFile(dir, process.pid);
  const me: ServerUser = { pid: process.pid, pidStart: processStartTime(process.pid) };
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(me)}\n`);
  fs.renameSync(tmp, file);
  const leave = (): void => {
    process.off('exit', leave);
    fs.rmSync(file, { force: true });
  };
  process.once('exit', leave);
  return leave;
}

/** The other processes that use the server now, oldest registration first; stale entries are removed. */
export function liveUsers(dir: string): ServerUser[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^\d+\.json$/.test(n));
  } catch {
    return [];
  }
  const users: Array<ServerUser & { since: number }> = [];
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const user = JSON.parse(fs.readFileSync(file, 'utf8')) as ServerUser;
      if (user.pid === process.pid) continue;
      if (stillRunning(user)) users.push({ ...user, since: fs.statSync(file).mtimeMs });
      else fs.rmSync(file, { force: true });
    } catch {
      /* being written or removed right now */
    }
  }
  return users.sort((a, b) => a.since - b.since).map(({ pid, pidStart }) => ({ pid, pidStart }));
}
