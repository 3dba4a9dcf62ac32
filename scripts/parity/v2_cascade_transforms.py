"""
Expected values for test/training/v2-cascade-transforms.test.ts: batchgeneratorsv2's cascade transforms
(MoveSegAsOneHotToDataTransform, ApplyRandomBinaryOperatorTransform, RemoveRandomConnectedComponentFromOneHot-
EncodingTransform) applied with fixed parameters to a small label map both sides build from the same formula.
Prints JSON: per case [number of ones, sum of their flat indices] of each one-hot channel.
Run: /usr/bin/python3 scripts/parity/v2_cascade_transforms.py
"""
import json
import sys
import types

import numpy as np
import torch

sys.modules.setdefault('cc3d', types.ModuleType('cc3d'))  # acvl_utils imports it; label_with_component_sizes uses skimage
from batchgeneratorsv2.transforms.nnunet.random_binary_operator import (  # noqa: E402
    ApplyRandomBinaryOperatorTransform, binary_closing_torch, binary_dilation_torch, binary_erosion_torch, binary_opening_torch)
from batchgeneratorsv2.transforms.nnunet.remove_connected_components import \
    RemoveRandomConnectedComponentFromOneHotEncodingTransform  # noqa: E402
from batchgeneratorsv2.transforms.nnunet.seg_to_onehot import MoveSegAsOneHotToDataTransform  # noqa: E402
import batchgeneratorsv2.transforms.nnunet.remove_connected_components as rcc  # noqa: E402

_label = rcc.label_with_component_sizes
# torch 1.13 cannot index a tensor with a numpy mask (newer torch can): hand the labels over as a tensor
rcc.label_with_component_sizes = lambda m: (lambda lab, sizes: (torch.from_numpy(lab), sizes))(*_label(m))

SHAPE = (12, 13, 14)


def label_map():
    z, y, x = np.meshgrid(*[np.arange(s) for s in SHAPE], indexing='ij')
    i = (z * SHAPE[1] + y) * SHAPE[2] + x
    seg = np.zeros(SHAPE, dtype=np.int16)
    seg[(i * 7919) % 29 < 2] = 1
    seg[(z - 5) ** 2 + (y - 6) ** 2 + (x - 8) ** 2 < 12] = 1
    seg[(z >= 1) & (z < 4) & (y >= 1) & (y < 4) & (x >= 1) & (x < 5)] = 2
    seg[(z >= 8) & (y >= 9) & (x < 3)] = 2
    return seg


def summary(img):
    out = []
    for c in range(img.shape[0]):
        flat = img[c].reshape(-1).numpy() != 0
        out.append([int(flat.sum()), int(np.nonzero(flat)[0].sum())])
    return out


def one_hot():
    seg = torch.from_numpy(label_map())
    d = MoveSegAsOneHotToDataTransform(1, [1, 2], True)(image=torch.zeros((1, *SHAPE)), segmentation=torch.stack((seg, seg)))
    return d['image'][1:], d


OPS = {'dilation': binary_dilation_torch, 'erosion': binary_erosion_torch, 'closing': binary_closing_torch, 'opening': binary_opening_torch}


def main():
    img, d = one_hot()
    result = {'onehot': summary(img), 'seg_channels': int(d['segmentation'].shape[0]), 'binary': {}, 'remove': {}}
    tr = ApplyRandomBinaryOperatorTransform(channel_idx=[0, 1])
    for r in (1, 1.6, 2.5, 3.7):
        for name, fn in OPS.items():
            out = tr._apply_to_image(img.clone(), apply_to_channels=[0], operators=[fn], strel_size=[r])
            result['binary'][f'{r}/{name}'] = summary(out)
    rm = RemoveRandomConnectedComponentFromOneHotEncodingTransform(channel_idx=[0, 1], fill_with_other_class_p=0,
                                                                  dont_do_if_covers_more_than_x_percent=0.15)
    for ch in (0, 1):
        k = 0
        while True:
            picked = {}

            def choice(ids, k=k):
                picked['n'] = len(ids)
                return ids[k]
            np.random.choice = choice
            out = rm._apply_to_image(img.clone(), apply_to_channels=[ch])
            result['remove'][f'{ch}/{k}'] = summary(out)
            k += 1
            if k >= picked.get('n', 0):
                break
    print(json.dumps(result))


if __name__ == '__main__':
    main()
