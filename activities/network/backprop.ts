/**
 * Reverse-mode gradients that free memory as they go, for training steps whose activations fill the machine.
 *
 * tfjs-core's `engine.gradients` keeps every tensor the forward pass saved for backprop, and the gradient of
 * every intermediate tensor, until the whole backward pass ends: its peak is about twice the saved
 * activations (a 48x192x192 batch-2 3D U-Net needs more than 24 GB). PyTorch frees each node's saved tensors
 * and its outputs' gradients as soon as that node has been differentiated; this does the same on tfjs's tape:
 *
 * - A tensor's gradient is complete once the node that produced it is reached (the tape is in topological
 *   order, so every consumer has already added its share), so it is disposed right after that node.
 * - A node's saved tensors are never read again after its own gradient, so they are disposed then too.
 *
 * The arithmetic is tfjs's own (the same gradient functions in the same order), so the gradients are equal
 * bit for bit to `tf.variableGrads`. It reaches into the engine's tape (tfjs exports no hook for this); the
 * fields used are checked on first use and it falls back to `tf.variableGrads` if they are missing.
 */
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-core's TapeNode this reads (tfjs-core/src/tape.ts). */
interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The engine internals used (tfjs-core/src/engine.ts, stable since tfjs 1.x). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

function engineInternals(): EngineInternals | undefined {
  const e = tf.engine() as unknown as Partial<EngineInternals>;
  const usable = typeof e.startTape === 'function' && typeof e.endTape === 'function' && typeof e.tidy === 'function' && e.state !== undefined && 'gradientDepth' in e.state;
  return usable ? (e as EngineInternals) : undefined;
}

/**
 * The nodes on a path from one of `xs` to `y`, inputs pruned to those that depend on `xs`: tfjs-core's
 * getFilteredNodesXToY (not exported by the package).
 */
export function nodesFromXsToY(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodeFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const leadsToY = new Set<number>([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => leadsToY.has(o.id))) {
      nodeToY.add(node.id);
      for (const t of Object.values(node.inputs)) leadsToY.add(t.id);
    }
  }
  return tape
    .filter((n) => nodeFromX.has(n.id) && nodeToY.has(n.id))
    .map((n) => ({ ...n, inputs: Object.fromEntries(Object.entries(n.inputs).filter(([, t]) => fromX.has(t.id))) }));
}

/** Walks the tape backwards, freeing each node's saved tensors and its outputs' gradients once it is done. */
function backpropagateFreeing(gradOf: Map<number, tf.Tensor>, nodes: readonly TapeNode[], keep: ReadonlySet<number>, tidy: (f: () => tf.Tensor) => tf.Tensor): void {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const dys = node.outputs.map((o) => gradOf.get(o.id) ?? null);
    const inputGradients = node.gradient(dys);
    for (const [name, x] of Object.entries(node.inputs)) {
      const compute = inputGradients[name];
      if (!compute) throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}.`);
      const dx = tidy(compute);
      if (dx.dtype !== 'float32') throw new Error(`Gradient of ${node.kernelName} input ${name} must be float32, got ${dx.dtype}`);
      if (!tf.util.arraysEqual(dx.shape, x.shape)) throw new Error(`Gradient of ${node.kernelName} input ${name} has shape ${dx.shape}, input has ${x.shape}`);
      const sum = gradOf.get(x.id);
      if (sum === undefined) gradOf.set(x.id, dx);
      else {
        gradOf.set(x.id, tidy(() => tf.add(sum, dx)));
        sum.dispose();
        dx.dispose();
      }
    }
    for (const o of node.outputs) {
      if (keep.has(o.id)) continue;
      gradOf.get(o.id)?.dispose();
      gradOf.delete(o.id);
    }
    for (const t of node.saved ?? []) t.dispose();
    node.saved = [];
  }
}

/**
 * `tf.variableGrads(f, variables)` with the memory behaviour described above: the scalar value of `f` and the
 * gradient of each variable (null where `f` does not depend on it), keyed by variable name.
 */
export function variableGradsFreeing(f: () => tf.Scalar, variables: readonly tf.Variable[]): { value: tf.Scalar; grads: Record<string, tf.Tensor | null> } {
  const engine = engineInternals();
  if (!engine || engine.state.gradientDepth !== 0) return tf.variableGrads(f, [...variables]) as { value: tf.Scalar; grads: Record<string, tf.Tensor> };
  const trainable = variables.filter((v) => v.trainable);
  engine.startTape();
  let y: tf.Scalar;
  try {
    y = engine.tidy('forward', f);
  } finally {
    engine.endTape();
  }
  if (y.rank !== 0) throw new Error(`the loss must be a scalar, got rank ${y.rank}`);
  const tape = engine.state.activeTape ?? [];
  const nodes = nodesFromXsToY(tape, trainable, y);
  const wanted = new Set(trainable.map((v) => v.id));
  const withGradient: tf.Variable[] = [];
  const grads = engine.tidy('backward', () => {
    const gradOf = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
    try {
      backpropagateFreeing(gradOf, nodes, wanted, (g) => engine.tidy('grad', g));
    } finally {
      // The nodes off the x->y path (and any left by an error) still hold their saved tensors.
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
    }
    // tidy cannot return nulls: return the present gradients and remember whose they are.
    withGradient.push(...trainable.filter((v) => gradOf.has(v.id)));
    return withGradient.map((v) => gradOf.get(v.id)!);
  });
  const named: Record<string, tf.Tensor | null> = Object.fromEntries(variables.map((v) => [v.name, null]));
  withGradient.forEach((v, i) => { named[v.name] = grads[i]!; });
  return { value: y, grads: named };
}
