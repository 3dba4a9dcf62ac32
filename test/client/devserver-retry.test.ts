/**
 * A free port can be taken between the moment we pick it and the moment the server binds it: the start is retried
 * on fresh ports. A stand-in CLI (TEMPORAL_CLI_PATH) fails like the real one would ("bind: address already in use")
 * on its first runs, then runs the real server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveTemporalBinary } from '../../client/temporal/binary';
import { startDevServer, waitForTemporal } from '../../client/temporal/devserver';
import { temporalUnavailable } from '../helpers/temporal';

const skip = temporalUnavailable() ?? false;

/** A temporal CLI that reports a taken port on its first `failures` runs, then is the real one. */
function flakyCli(dir: string, failures: number): { count(): number } {
  const real = resolveTemporalBinary()!.path;
  const counter = path.join(dir, 'runs');
  const script = path.join(dir, 'temporal');
  fs.writeFileSync(script, `#!/bin/sh
n=$(cat '${counter}' 2>/dev/null || echo 0)
echo $((n + 1)) > '${counter}'
if [ "$n" -lt ${failures} ]; then echo 'listen tcp 127.0.0.1:7233: bind: address already in use' >&2; exit 1; fi
exec '${real}' "$@"
`, { mode: 0o755 });
  return { count: () => Number(fs.readFileSync(counter, 'utf8')) };
}

async function withCli<T>(failures: number, body: (dir: string, cli: { count(): number }) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-port-retry-'));
  const cli = flakyCli(dir, failures);
  const saved = process.env.TEMPORAL_CLI_PATH;
  process.env.TEMPORAL_CLI_PATH = path.join(dir, 'temporal');
  try {
    return await body(dir, cli);
  } finally {
    if (saved === undefined) delete process.env.TEMPORAL_CLI_PATH;
    else process.env.TEMPORAL_CLI_PATH = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a port taken before the server binds it: the start is retried on fresh ports', { skip, timeout: 240_000 }, async () => {
  await withCli(1, async (dir, cli) => {
    const server = await startDevServer({ dbFile: path.join(dir, 'temporal.db'), uiPort: false, readyTimeoutMs: 180_000 });
    try {
      assert.equal(cli.count(), 2, 'one failed start, one good one');
      await waitForTemporal(server.address, server.namespace, 10_000);
    } finally {
      await server.stop();
    }
  });
});

test('ports taken on every try: the start fails after three tries, saying why', { skip, timeout: 60_000 }, async () => {
  await withCli(99, async (dir, cli) => {
    await assert.rejects(startDevServer({ dbFile: path.join(dir, 'temporal.db'), uiPort: false, readyTimeoutMs: 30_000 }), /a port was taken before the Temporal server could bind it/);
    assert.equal(cli.count(), 3);
  });
});
