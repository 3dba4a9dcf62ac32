/**
 * TLS client settings for a remote cluster (TEMPORAL_TLS_CERT / _KEY / _CA) are honoured, end to end.
 *
 * `temporal server start-dev` (CLI 1.9.1) cannot serve TLS: `start-dev --help` lists no TLS flag and it takes no
 * server config file (only --dynamic-config-value, which has no TLS keys). So the test puts an mTLS-terminating
 * proxy (node:tls, ALPN h2, requestCert + rejectUnauthorized against its own CA) in front of the dev server's
 * plain gRPC port, as a TLS load balancer in front of a cluster would. Certificates come from `openssl` (the test
 * skips without it): a CA, a server certificate for 127.0.0.1/localhost and a client certificate.
 * With the client certificate, `nnunet run --detach`, `nnunet worker` (the Rust core's TLS) and `nnunet run`
 * (the Node client's TLS) all work through the proxy; without it the CLI fails clearly and the proxy saw a
 * handshake refused for want of a certificate.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { writeDemoDataset } from '../../activities/io/demo';
import { startDevServer, type DevServer } from '../../client/temporal/devserver';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { makeDataEnv, startCli, type CliProcess, type DataEnv } from './helpers';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const skip = temporalUnavailable() ?? (hasOpenssl ? false : 'openssl is not installed');
const TASK = 919;
const WORKFLOW_ID = `nnunet-task-${TASK}`;

let data: DataEnv;
let server: DevServer;
let proxy: tls.Server;
let proxyAddress: string;
const handshakeErrors: string[] = [];
let certs: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };
let worker: CliProcess | undefined;

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A CA, and a server and a client certificate signed by it (EC P-256: quick to make, understood by rustls). */
function makeCertificates(dir: string): typeof certs {
  fs.mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=nnunet-test-ca'], dir);
  const leaf = (name: string, ext: string): void => {
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=nnunet-test-${name}`], dir);
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
  };
  leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  leaf('client', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  const f = (n: string): string => path.join(dir, n);
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

/** mTLS in front of the plain gRPC port: decrypted bytes (HTTP/2) are piped to the dev server. */
function startProxy(target: string): Promise<tls.Server> {
  const [host, port] = target.split(':');
  const srv = tls.createServer({
    key: fs.readFileSync(certs.serverKey),
    cert: fs.readFileSync(certs.serverCert),
    ca: fs.readFileSync(certs.ca),
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: ['h2'],
  }, (socket) => {
    const upstream = net.connect(Number(port), host);
    socket.pipe(upstream).pipe(socket);
    const close = (): void => { socket.destroy(); upstream.destroy(); };
    socket.on('error', close);
    upstream.on('error', close);
  });
  srv.on('tlsClientError', (err) => handshakeErrors.push(err.message));
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

before(async () => {
  if (skip) return;
  assertBuilt();
  data = makeDataEnv('tls');
  certs = makeCertificates(path.join(data.root, 'certs'));
  await writeDemoDataset(data.env.nnUNet_raw_data_base, { taskId: TASK, cases: 5, testCases: 0 });
  server = await startDevServer({ dbFile: path.join(data.root, 'temporal', 'temporal.db'), uiPort: false, readyTimeoutMs: 180_000 });
  proxy = await startProxy(server.address);
  proxyAddress = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
});

after(async () => {
  if (skip) return;
  if (worker) {
    worker.child.kill('SIGINT');
    await worker.done;
  }
  await new Promise((r) => proxy?.close(r));
  await server?.stop();
  data?.remove();
});

const tlsEnv = (): Record<string, string> => ({
  ...data.env,
  TEMPORAL_ADDRESS: proxyAddress,
  TEMPORAL_TLS_CERT: certs.clientCert,
  TEMPORAL_TLS_KEY: certs.clientKey,
  TEMPORAL_TLS_CA: certs.ca,
});
const RUN = ['run', '-t', String(TASK), '-c', '2d', '-f', '0', '--epochs', '1', '--iters', '1', '--no-find-best', '--json'];

test('without the client certificate the CLI fails clearly (the proxy refuses the handshake)', { skip, timeout: 120_000 }, async () => {
  const { TEMPORAL_TLS_CERT: _c, TEMPORAL_TLS_KEY: _k, ...caOnly } = tlsEnv();
  const r = await startCli([...RUN, '--detach'], caOnly, 60_000).done;
  console.log(`no client certificate: exit ${r.code} in ${r.ms} ms: ${r.stderr.trim()}`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`cannot connect to Temporal at ${proxyAddress.replace(/\./g, '\\.')}`));
  assert.match(r.stderr, /TEMPORAL_TLS_CERT/, 'the message points at the TLS settings');
  assert.ok(handshakeErrors.some((m) => /certificate/i.test(m)), `the proxy saw a handshake without a certificate: ${handshakeErrors.join('; ')}`);
  assert.equal(r.stdout, '', 'no workflow id: nothing was started');
});

test('with TEMPORAL_TLS_CERT/KEY/CA: run --detach, a TLS worker, and run follow the task to its end', { skip, timeout: 300_000 }, async () => {
  const env = tlsEnv();
  const detached = await startCli([...RUN, '--detach'], env, 60_000).done;
  assert.equal(detached.code, 0, detached.stderr);
  assert.deepEqual(JSON.parse(detached.stdout), { workflowId: WORKFLOW_ID, attached: false, status: 'RUNNING' });

  worker = startCli(['worker', '--queue', 'all'], env, 300_000); // the Rust core's TLS (NativeConnection)
  const r = await startCli(RUN, env, 240_000).done; // the Node client's TLS, following the task to its end
  console.log(`over mTLS: run (attach + watch to the end) exit ${r.code} in ${r.ms} ms`);
  assert.match(r.stderr, new RegExp(`attached to ${WORKFLOW_ID}`));
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { status: string }).status, 'completed');

  const status = await startCli(['status', '-t', String(TASK), '--json'], env, 60_000).done;
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /"status": "completed"/);
});
