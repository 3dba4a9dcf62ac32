/**
 * Connection options for a configured Temporal cluster (address, namespace, optional mTLS), shared by the
 * client (Connection) and workers (NativeConnection). Certificate files are read here so a wrong path is a
 * ConfigError (exit 2) naming the key, not a gRPC error later.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { ConfigError, type TemporalConfig } from '../../config';

export interface ConnectionTarget {
  address: string;
  tls?: TLSConfig;
}

function readPem(file: string, key: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`invalid config: ${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export function tlsOptions(temporal: TemporalConfig): TLSConfig | undefined {
  const t = temporal.tls;
  if (!t) return undefined;
  const tls: TLSConfig = {};
  if (t.certPath && t.keyPath) {
    tls.clientCertPair = { crt: readPem(t.certPath, 'temporal.tls.certPath'), key: readPem(t.keyPath, 'temporal.tls.keyPath') };
  }
  if (t.caPath) tls.serverRootCACertificate = readPem(t.caPath, 'temporal.tls.caPath');
  if (t.serverName) tls.serverNameOverride = t.serverName;
  return tls;
}

/** The configured remote cluster, or undefined when the embedded server should be used. */
export function remoteTarget(temporal: TemporalConfig): ConnectionTarget | undefined {
  if (!temporal.address) return undefined;
  return { address: temporal.address, tls: tlsOptions(temporal) };
}

/** What a failed connection means, in words (the SDK says `tonic::transport::Error(… ConnectionRefused …)`). */
function connectionProblem(message: string): string {
  if (/ConnectionRefused|connection refused|ECONNREFUSED/i.test(message)) return 'nothing listens there (connection refused)';
  if (/dns error|failed to lookup|ENOTFOUND|EAI_AGAIN|Name or service not known/i.test(message)) return 'the host name does not resolve';
  if (/EHOSTUNREACH|ENETUNREACH/.test(message)) return 'the host cannot be reached';
  if (/deadline|timed? ?out|ETIMEDOUT/i.test(message)) return 'no answer in time';
  if (/tls|certificate|handshake|InvalidCertificate/i.test(message)) return `the TLS handshake failed (${message})`;
  return message;
}

/** Why a plain TCP connection to `address` fails, if it does (the SDK's own error says only "deadline"). */
export function tcpProblem(address: string, timeoutMs = 3000): Promise<string | undefined> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(at + 1));
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (why: string | undefined): void => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once('connect', () => done(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/**
 * A connection failure as a person can act on it: the address, what went wrong, and the settings to check.
 * `embeddedHint` adds how to start a server on this machine. A TCP probe tells "nothing listens" from "no answer".
 */
export async function explainConnectionFailure(target: ConnectionTarget, err: unknown, embeddedHint = false): Promise<Error> {
  const tcp = /ConnectionRefused|connection refused|dns error|failed to lookup/i.test((err as Error)?.message ?? '') ? undefined : await tcpProblem(target.address);
  return connectionError(target, tcp ? new Error(tcp) : err, embeddedHint);
}

/** connectionError without the probe (see explainConnectionFailure). */
export function connectionError(target: ConnectionTarget, err: unknown, embeddedHint = false): Error {
  const tlsHint = target.tls
    ? `check TEMPORAL_ADDRESS and the TLS settings TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY / TEMPORAL_TLS_CA${target.tls.clientCertPair ? '' : ' (no client certificate is set; a cluster with mTLS needs TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY)'}`
    : 'check TEMPORAL_ADDRESS (a cluster that requires TLS needs TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY / TEMPORAL_TLS_CA)';
  const serverHint = embeddedHint ? ', and that the server is running (`nnunet server` on this machine, or your cluster)' : '';
  return new Error(`cannot connect to Temporal at ${target.address}${target.tls ? ' over TLS' : ''}: ${connectionProblem((err as Error)?.message ?? String(err))}; ${tlsHint}${serverHint}`);
}
