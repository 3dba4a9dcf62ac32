/**
 * Loads the one typed Config. Layers, later wins: config/defaults.yaml < environment variables < --config FILE.
 * Any invalid value ends in a ConfigError (exit code 2) that names the key and the layer it came from.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type Config } from './schema';

export type { Config, TemporalConfig, TlsConfig } from './schema';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly exitCode = 2;
}

/** The checkout root (holds config/defaults.yaml), found from source (tsx) and from dist/ alike. */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'config', 'defaults.yaml'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`config/defaults.yaml not found above ${__dirname}`);
  }
}

export const defaultsFile = (): string => path.join(repoRoot(), 'config', 'defaults.yaml');

/**
 * Environment variables and the key each one sets. nnU-Net's own names are kept, v1's and v2's: when two set one
 * key, the later entry wins, so v1's RESULTS_FOLDER beats v2's nnUNet_results (the results tree here is v1's).
 */
export const ENV_KEYS: ReadonlyArray<{ env: string; key: string; type: 'string' | 'number' | 'boolean' }> = [
  { env: 'nnUNet_raw_data_base', key: 'paths.rawDataBase', type: 'string' },
  { env: 'nnUNet_raw', key: 'paths.raw', type: 'string' },
  { env: 'nnUNet_preprocessed', key: 'paths.preprocessed', type: 'string' },
  { env: 'nnUNet_results', key: 'paths.results', type: 'string' },
  { env: 'RESULTS_FOLDER', key: 'paths.results', type: 'string' },
  { env: 'TEMPORAL_ADDRESS', key: 'temporal.address', type: 'string' },
  { env: 'TEMPORAL_NAMESPACE', key: 'temporal.namespace', type: 'string' },
  { env: 'TEMPORAL_TLS_CERT', key: 'temporal.tls.certPath', type: 'string' },
  { env: 'TEMPORAL_TLS_KEY', key: 'temporal.tls.keyPath', type: 'string' },
  { env: 'TEMPORAL_TLS_CA', key: 'temporal.tls.caPath', type: 'string' },
  { env: 'TEMPORAL_TLS_SERVER_NAME', key: 'temporal.tls.serverName', type: 'string' },
  { env: 'nnUNet_def_n_proc', key: 'numProcesses', type: 'number' },
  { env: 'NNUNET_LOG_LEVEL', key: 'logging.level', type: 'string' },
  { env: 'NNUNET_MAX_IMAGE_MEMORY_GB', key: 'data.maxImageMemoryGb', type: 'number' },
  { env: 'NNUNET_ALLOW_EXTERNAL_SYMLINKS', key: 'data.allowExternalSymlinks', type: 'boolean' },
  { env: 'NNUNET_BACKEND', key: 'worker.backend', type: 'string' },
  { env: 'NNUNET_CHECKPOINT_EVERY_EPOCHS', key: 'worker.checkpointEveryEpochs', type: 'number' },
  // A small budget for dry runs and tests without changing nnU-Net's command lines (nnUNet_train has no such flag).
  { env: 'NNUNET_EPOCHS', key: 'training.epochs', type: 'number' },
  { env: 'NNUNET_ITERATIONS_PER_EPOCH', key: 'training.iterationsPerEpoch', type: 'number' },
  { env: 'nnUNet_n_proc_DA', key: 'training.augmentationWorkers', type: 'number' },
  { env: 'NNUNET_PRECISION', key: 'training.precision', type: 'string' },
  { env: 'NNUNET_METHOD', key: 'planning.method', type: 'string' },
  { env: 'NNUNET_V2_PLANNER', key: 'planning.v2Planner', type: 'string' },
  { env: 'NNUNET_HEARTBEAT_TIMEOUT_SECONDS', key: 'training.heartbeatTimeoutSeconds', type: 'number' },
];

/** An environment value as its key's type; anything else stays a string so that validation reports it. */
function envValue(raw: string, type: 'string' | 'number' | 'boolean'): unknown {
  if (type === 'number' && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (type === 'boolean' && /^(1|true|yes)$/i.test(raw)) return true;
  if (type === 'boolean' && /^(0|false|no)$/i.test(raw)) return false;
  return raw;
}

/** Keys holding file-system paths: relative values resolve against the layer's base folder. */
const PATH_KEYS = new Set([
  'paths.rawDataBase', 'paths.raw', 'paths.preprocessed', 'paths.results',
  'temporal.tls.certPath', 'temporal.tls.keyPath', 'temporal.tls.caPath', 'training.trainerPaths',
]);

type Tree = { [key: string]: unknown };
interface Layer {
  /** Shown in error messages: a file name or `env NAME`. */
  source: (key: string) => string;
  baseDir: string;
  data: Tree;
}

const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

function setKey(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const p of parts.slice(0, -1)) node = (isTree(node[p]) ? node[p] : (node[p] = {})) as Tree;
  node[parts[parts.length - 1]] = value;
}

function readYamlLayer(file: string, what: string): Layer {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${what} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let data: unknown;
  try {
    data = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${what} ${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isTree(data)) throw new ConfigError(`${what} ${file}: expected a YAML mapping at the top level`);
  return { source: () => file, baseDir: path.dirname(path.resolve(file)), data };
}

function envLayer(env: NodeJS.ProcessEnv, cwd: string): Layer {
  const data: Tree = {};
  const sources = new Map<string, string>();
  for (const { env: name, key, type } of ENV_KEYS) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    setKey(data, key, envValue(raw, type));
    sources.set(key, `env ${name}`);
  }
  return { source: (key) => sources.get(key) ?? 'environment', baseDir: cwd, data };
}

function resolvePath(layer: Layer, v: string): string {
  const expanded = v === '~' || v.startsWith('~/') ? path.join(os.homedir(), v.slice(1)) : v;
  return path.resolve(layer.baseDir, expanded);
}

function resolvePaths(layer: Layer, prefix = '', tree: Tree = layer.data): void {
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isTree(v)) resolvePaths(layer, key, v);
    else if (PATH_KEYS.has(key) && typeof v === 'string' && v.length > 0) tree[k] = resolvePath(layer, v);
    else if (PATH_KEYS.has(key) && Array.isArray(v)) tree[k] = v.map((p) => (typeof p === 'string' && p.length > 0 ? resolvePath(layer, p) : p));
  }
}

/** Deep merge; records which layer set each leaf so errors can say where a bad value came from. */
function merge(target: Tree, layer: Layer, origin: Map<string, string>, prefix = '', tree: Tree = layer.data): void {
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isTree(v)) {
      if (!isTree(target[k])) target[k] = {};
      merge(target[k] as Tree, layer, origin, key, v);
    } else {
      target[k] = v;
      origin.set(key, layer.source(key));
    }
  }
}

function originOf(key: string, origin: Map<string, string>): string {
  for (let k = key; k; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') {
    const found = origin.get(k);
    if (found) return found;
  }
  const below = [...origin.keys()].filter((k) => k.startsWith(`${key}.`)).map((k) => origin.get(k));
  return below.length > 0 ? [...new Set(below)].join(', ') : 'the merged configuration';
}

export interface LoadConfigOptions {
  /** --config FILE: overrides defaults and environment. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const cwd = opts.cwd ?? process.cwd();
  // Defaults describe folders relative to where the user runs the command, not to the checkout.
  const defaults = { ...readYamlLayer(defaultsFile(), 'defaults'), baseDir: cwd };
  const layers = [defaults, envLayer(opts.env ?? process.env, cwd)];
  if (opts.configFile) layers.push(readYamlLayer(path.resolve(cwd, opts.configFile), 'config file'));
  const merged: Tree = {};
  const origin = new Map<string, string>();
  for (const layer of layers) {
    resolvePaths(layer);
    merge(merged, layer, origin);
  }
  const result = ConfigSchema.safeParse(merged);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((k) => {
      const key = [...issue.path, ...(k === undefined ? [] : [k])].map(String).join('.') || '(top level)';
      const what = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
      return `${key}: ${what} (from ${originOf(key, origin)})`;
    });
  });
  // Every problem at once, so that one edit fixes them all.
  throw new ConfigError(problems.length === 1 ? `invalid config: ${problems[0]}` : `invalid config, ${problems.length} problems:\n  ${problems.join('\n  ')}`);
}
