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
