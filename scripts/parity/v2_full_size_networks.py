"""Full-size nnU-Net v2 networks for a one-off parity check (not committed: the checkpoints are 80-300 MB).

Run: /usr/bin/python3 scripts/parity/v2_full_size_networks.py OUT_DIR
then: node dist/scripts/parity/v2-model-parity.js OUT_DIR

Takes real configurations from the planner vectors (test/fixtures/vectors/planner_nnunet_v2.json) unchanged
(6-stage 2d PlainConvUNet with its 512-feature cap, 2d and 3d ResidualEncoderUNet L), builds and saves them as
make_v2_model.py does (nnU-Net's code, every parameter randomised), and keeps an input of twice the network's
total stride per axis (the smallest size whose deepest stage is not a single voxel) with its logits.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_v2_model import DATASET, DATASET_JSON, VECTORS, build, perturb, write_fold  # noqa: E402
import json  # noqa: E402

CASES = [(3, 'nnUNetPlans', '2d'), (3, 'nnUNetResEncUNetLPlans', '2d'), (0, 'nnUNetResEncUNetLPlans', '3d_fullres')]


def main(out):
    torch.set_num_threads(2)
    with open(VECTORS) as f:
        vectors = json.load(f)['vectors']
    for seed, (index, plans_name, cfg) in enumerate(CASES):
        plans = dict(vectors[index][plans_name], dataset_name=DATASET)
        torch.manual_seed(seed)
        network, inputs, _ = build(plans, cfg)
        generator = torch.Generator().manual_seed(seed)
        perturb(network, generator)
        network.eval()
        name = f'nnUNetTrainer__{plans_name}__{cfg}__v{index}'
        model_dir = os.path.join(out, DATASET, name)
        os.makedirs(model_dir, exist_ok=True)
        for file, content in (('plans.json', plans), ('dataset.json', DATASET_JSON)):
            with open(os.path.join(model_dir, file), 'w') as f:
                json.dump(content, f, indent=4)
        write_fold(model_dir, 0, network, plans, cfg, len(network.encoder.strides[0]))
        stride = np.prod(network.encoder.strides, axis=0)
        x = torch.randn((1, inputs, *(2 * stride)), generator=generator)
        with torch.no_grad():
            logits = network(x)
        expected = os.path.join(out, 'expected', name)
        os.makedirs(expected, exist_ok=True)
        np.save(os.path.join(expected, 'input.npy'), x.numpy())
        np.save(os.path.join(expected, 'logits.npy'), logits.numpy())
        n = sum(p.numel() for p in network.parameters())
        print(f'{name}: {type(network).__name__}, {n} parameters, input {tuple(x.shape)}')


if __name__ == '__main__':
    main(sys.argv[1])
