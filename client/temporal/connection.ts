/**
 * Connection options for a configured Temporal cluster (address, namespace, optional mTLS), shared by the
 * client (Connection) and workers (NativeConnection). Certificate files are read here so a wrong path is a
 * ConfigError (exit 2) naming the key, not a gRPC error later.
 */
import * as fs from 'node:fs';
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
  if (/dns error|failed to lookup|ENOTFOUND|Name or service not known/i.test(message)) return 'the host name does not resolve';
  if (/deadline|timed? ?out|ETIMEDOUT/i.test(message)) return 'no answer in time';
  if (/tls|certificate|handshake|InvalidCertificate/i.test(message)) return `the TLS handshake failed (${message})`;
  return message;
}

/**
 * A connection failure as a person can act on it: the address, what went wrong, and the settings to check.
 * `embeddedHint` adds how to start a server on this machine.
 */
export function connectionError(target: ConnectionTarget, err: unknown, embeddedHint = false): Error {
  const tlsHint = target.tls
    ? `check TEMPORAL_ADDRESS and the TLS settings TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY / TEMPORAL_TLS_CA${target.tls.clientCertPair ? '' : ' (no client certificate is set; a cluster with mTLS needs TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY)'}`
    : 'check TEMPORAL_ADDRESS (a cluster that requires TLS needs TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY / TEMPORAL_TLS_CA)';
  const serverHint = embeddedHint ? ', and that the server is running (`nnunet server` on this machine, or your cluster)' : '';
  return new Error(`cannot connect to Temporal at ${target.address}${target.tls ? ' over TLS' : ''}: ${connectionProblem((err as Error)?.message ?? String(err))}; ${tlsHint}${serverHint}`);
}
