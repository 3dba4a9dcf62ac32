/**
 * Renders a task's `state` as a tree: the linear head (verify → fingerprint → plan), one branch per
 * configuration (preprocess, then its folds with progress bars), then the tail (find best, postprocess).
 * Pure: state in, text out; the live view and `nnunet status` both use it.
 */
import type { DagNode, NodeStatus, TaskState } from '../../workflows/state';

export interface RenderOptions {
  /** ANSI colours (only on a terminal). */
  color?: boolean;
  /** Width of a progress bar in characters. */
  barWidth?: number;
  /** Current time, for the elapsed time of running nodes (ms since epoch). */
  now?: number;
}

const ICONS: Record<NodeStatus, string> = {
  pending: '·', queued: '◌', running: '▶', done: '✓', failed: '✗', skipped: '-', cancelled: '⊘',
};
const COLORS: Record<NodeStatus, number> = { pending: 90, queued: 33, running: 36, done: 32, failed: 31, skipped: 90, cancelled: 33 };

const paint = (text: string, code: number, on: boolean): string => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

export function progressBar(done: number, total: number, width: number): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(fraction * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function label(node: DagNode): string {
  switch (node.kind) {
    case 'preprocess': return `preprocess ${node.configuration}`;
    case 'train': return `fold ${node.fold}`;
    case 'findBest': return 'find best configuration';
    default: return node.kind;
  }
}

/** Training progress, when the node is a training with numeric epochs (other steps may heartbeat other details). */
function trainingProgress(node: DagNode): DagNode['progress'] {
  const p = node.progress;
  return node.kind === 'train' && p && typeof p.epoch === 'number' && typeof p.totalEpochs === 'number' ? p : undefined;
}

function details(node: DagNode, opts: Required<RenderOptions>): string {
  const parts: string[] = [];
  const p = trainingProgress(node);
  if (p && (node.status === 'running' || node.status === 'done' || node.status === 'failed' || node.status === 'cancelled')) {
    parts.push(`${progressBar(p.epoch, p.totalEpochs, opts.barWidth)} epoch ${p.epoch}/${p.totalEpochs}`);
    if (p.trainLoss !== undefined) parts.push(`train ${p.trainLoss.toFixed(4)}`);
    if (p.valLoss !== undefined) parts.push(`val ${p.valLoss.toFixed(4)}`);
    if (p.pseudoDice?.length) parts.push(`dice ${p.pseudoDice.map((d) => d.toFixed(3)).join('/')}`);
  }
  if (node.attempt > 1) parts.push(`attempt ${node.attempt}`);
  if (node.ranMs !== undefined && node.endedAt) parts.push(formatDuration(node.ranMs));
  else if (node.startedAt) {
    const end = node.endedAt ? Date.parse(node.endedAt) : opts.now;
    parts.push(formatDuration(end - Date.parse(node.startedAt)));
  }
  return parts.join('  ');
}

const LABEL_COLUMN = 34;

/** An error's first lines joined, so multi-line messages (a list of dataset problems) stay readable in one row. */
export function oneLine(message: string, max = 300): string {
  const text = message.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 4).join(' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function line(node: DagNode, prefix: string, continuation: string, opts: Required<RenderOptions>): string[] {
  const left = `${prefix}${ICONS[node.status]} ${label(node)}`;
  const pad = ' '.repeat(Math.max(1, LABEL_COLUMN - left.length));
  const icon = paint(ICONS[node.status], COLORS[node.status], opts.color);
  const status = paint(node.status.padEnd(9), COLORS[node.status], opts.color);
  const lines = [`${prefix}${icon} ${label(node)}${pad}${status} ${details(node, opts)}`.trimEnd()];
  if (node.error && (node.status === 'failed' || node.attempt > 1)) lines.push(`${continuation}  ${paint(`error: ${oneLine(node.error)}`, 31, opts.color)}`);
  return lines;
}

export function renderTaskState(state: TaskState, options: RenderOptions = {}): string {
  const opts: Required<RenderOptions> = { color: false, barWidth: 20, now: Date.now(), ...options };
  const out: string[] = [`${state.task}  (${state.workflowId})  ${paint(state.status, state.status === 'failed' ? 31 : state.status === 'completed' ? 32 : 36, opts.color)}`];
  const head = state.nodes.filter((n) => n.kind === 'verify' || n.kind === 'fingerprint' || n.kind === 'plan');
  const tail = state.nodes.filter((n) => n.kind === 'findBest' || n.kind === 'postprocess' || n.kind === 'predict');
  const configurations = [...new Set(state.nodes.filter((n) => n.configuration && (n.kind === 'preprocess' || n.kind === 'train')).map((n) => n.configuration!))];
  for (const n of head) out.push(...line(n, '', '', opts));
  configurations.forEach((cfg, i) => {
    const lastBranch = i === configurations.length - 1 && tail.length === 0;
    const branch = lastBranch ? '└─ ' : '├─ ';
    const indent = lastBranch ? '   ' : '│  ';
    const pre = state.nodes.find((n) => n.kind === 'preprocess' && n.configuration === cfg);
    const folds = state.nodes.filter((n) => n.kind === 'train' && n.configuration === cfg);
    out.push(`${branch}${cfg}`);
    const children = pre ? [pre, ...folds] : folds;
    children.forEach((n, j) => {
      const last = j === children.length - 1;
      out.push(...line(n, `${indent}${last ? '└─ ' : '├─ '}`, `${indent}${last ? '   ' : '│  '}`, opts));
    });
  });
  for (const n of tail) out.push(...line(n, '', '', opts));
  return out.join('\n');
}

/** The first failed node (the one to report when a task fails). */
export function firstFailure(state: TaskState): DagNode | undefined {
  const failed = state.nodes.filter((n) => n.status === 'failed');
  return failed.sort((a, b) => (a.endedAt ?? '').localeCompare(b.endedAt ?? ''))[0];
}

/** One line per change, for logs and pipes: compares two snapshots node by node. */
export function describeChanges(before: TaskState | undefined, after: TaskState): string[] {
  const prev = new Map(before?.nodes.map((n) => [n.id, n]) ?? []);
  const lines: string[] = [];
  for (const n of after.nodes) {
    const old = prev.get(n.id);
    const p = trainingProgress(n);
    const epochMoved = p !== undefined && p.epoch !== old?.progress?.epoch;
    if (old && old.status === n.status && old.attempt === n.attempt && !epochMoved) continue;
    if (!old && n.status === 'pending') continue;
    let text = `${n.id}: ${n.status}`;
    if (n.attempt > 1) text += ` (attempt ${n.attempt})`;
    if (p && (n.status === 'running' || epochMoved)) text += ` epoch ${p.epoch}/${p.totalEpochs}`;
    if (p?.trainLoss !== undefined && epochMoved) text += ` train_loss ${p.trainLoss.toFixed(4)}`;
    if (n.status === 'failed' && n.error) text += `: ${oneLine(n.error)}`;
    lines.push(text);
  }
  if (before?.status !== after.status && after.status !== 'running') lines.push(`task ${after.task}: ${after.status}`);
  return lines;
}
