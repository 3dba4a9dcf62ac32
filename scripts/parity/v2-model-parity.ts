/**
 * Loads every nnU-Net v2 model folder under DIR/<dataset>/ and compares its fold-0 network's logits with PyTorch's
 * (DIR/expected/<model folder>/{input,logits}.npy), as written by v2_full_size_networks.py.
 * Usage: node dist/scripts/parity/v2-model-parity.js DIR
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readNpySync } from '../../activities/io/npy';
import { loadV2Model } from '../../activities/network/v2/model-folder';

function compare(model: string, expectedDir: string): string {
  const started = Date.now();
  const loaded = loadV2Model(model);
  try {
    const input = readNpySync(path.join(expectedDir, 'input.npy'));
    const logits = readNpySync(path.join(expectedDir, 'logits.npy')).data as Float32Array;
    const r = input.shape.length;
    const spatial = Array.from({ length: r - 2 }, (_, i) => i + 2);
    const out = tf.tidy(() => tf.transpose(loaded.networks[0]!.predict(tf.transpose(tf.tensor(input.data as Float32Array, input.shape), [0, ...spatial, 1])), [0, r - 1, ...spatial.map((a) => a - 1)]));
    const ours = out.dataSync() as Float32Array;
    out.dispose();
    let diff = 0;
    let scale = 0;
    logits.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - ours[i]!)); scale = Math.max(scale, Math.abs(v)); });
    return `${path.basename(model)}: ${loaded.description.spec.networkClass}, ${loaded.description.numParameters} parameters, input ${input.shape.join('x')}: max |ours - torch| ${diff.toExponential(2)} (max |logit| ${scale.toFixed(2)}), ${((Date.now() - started) / 1000).toFixed(1)} s`;
  } finally {
    loaded.dispose();
  }
}

async function main(dir: string): Promise<void> {
  await tf.setBackend('cpu');
  for (const dataset of fs.readdirSync(dir).filter((d) => d !== 'expected')) {
    for (const model of fs.readdirSync(path.join(dir, dataset)).sort()) {
      const expected = path.join(dir, 'expected', model);
      if (fs.existsSync(expected)) console.log(compare(path.join(dir, dataset, model), expected));
    }
  }
}

main(process.argv[2] ?? '.').catch((err: unknown) => { console.error(err); process.exitCode = 1; });
