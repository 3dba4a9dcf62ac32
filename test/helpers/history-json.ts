/**
 * Workflow histories to and from Temporal's JSON form (the one `temporal workflow show --output json` writes).
 *
 * The SDK's own historyToJSON / historyFromJSON (@temporalio/common/lib/proto-utils) throw "type must be a Type"
 * in this install: @temporalio/common and @temporalio/proto each get their own copy of protobufjs, and the
 * protojson of one rejects the reflected types of the other. So this uses the protojson of the protobufjs that
 * @temporalio/proto itself loads, and hands the replayer a decoded History (never JSON, which it would send
 * through the broken path).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { repoRoot } from './temporal';

export type History = proto.temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): History | null;
}

let cached: { protojson: ProtoJson; historyType: unknown } | undefined;
function protoJson(): { protojson: ProtoJson; historyType: unknown } {
  if (!cached) {
    const protoDir = path.dirname(require.resolve('@temporalio/proto'));
    const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
    const root = patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown };
    cached = { protojson, historyType: root.lookupType('temporal.api.history.v1.History') };
  }
  return cached;
}

export function historyToJson(history: History): unknown {
  const { protojson, historyType } = protoJson();
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

/** Unknown fields (a history from a newer server) are ignored, as the SDK's own loader does. */
export function historyFromJson(json: unknown): History {
  const { protojson, historyType } = protoJson();
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history?.events?.length) throw new Error('not a workflow history: no events');
  return history;
}

/** Recorded histories committed as replay fixtures (scripts/record-workflow-histories.ts writes them). */
export const HISTORIES_DIR = path.join(repoRoot, 'test', 'workflows', 'fixtures', 'histories');

/** One fixture file: a workflow run's history plus what is needed to replay it and to know where it came from. */
export interface HistoryFixture {
  scenario: string;
  description: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  /** The commit whose workflow code produced the history. */
  recordedAtCommit: string;
  recordedAt: string;
  /** Temporal's JSON form of the history. */
  history: unknown;
}

/** Every fixture under HISTORIES_DIR/<label>/, as path relative to HISTORIES_DIR → fixture, sorted by path. */
export function loadHistoryFixtures(dir = HISTORIES_DIR): Array<{ file: string; fixture: HistoryFixture }> {
  if (!fs.existsSync(dir)) return [];
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort();
  return files.map((file) => ({ file, fixture: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as HistoryFixture }));
}
