"""Reference counts for test/training/v2/pseudo-dice.test.ts: nnunetv2's nnUNetTrainer.validation_step tp/fp/fn (the
online pseudo-Dice) for region outputs (sigmoid > 0.5) and softmax outputs (argmax), both with an ignore label, on a
fixed tiny batch. Run: /usr/bin/python3 scripts/parity/v2-pseudo-dice.py"""
import json
import math
import numpy as np
import torch
from nnunetv2.training.loss.dice import get_tp_fp_fn_tn

B, H, W = 2, 4, 5
n = B * H * W
labels = np.array([(i * 7 + 3) % 4 for i in range(n)], dtype=np.int64).reshape(B, H, W)  # values 0..3, 3 = ignore
regions = [(1, 2), (2,)]
IGNORE = 3


def logits(channels):
    x = np.array([math.sin(0.37 * i + 0.5) * 2 for i in range(n * channels)], dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(x.reshape(B, H, W, channels), -1, 1)))  # ts: channels last


def counts(onehot, target, mask):
    tp, fp, fn, _ = get_tp_fp_fn_tn(onehot, target, axes=[0, 2, 3], mask=mask)
    return [tp.tolist(), fp.tolist(), fn.tolist()]


# regions: the target holds one channel per region plus the ignore channel last (ConvertSegmentationToRegionsTransform)
target = torch.from_numpy(np.stack([np.isin(labels, r) for r in regions] + [labels == IGNORE], 1).astype(np.int16))
mask = 1 - target[:, -1:]
regions_counts = counts((torch.sigmoid(logits(2)) > 0.5).long(), target[:, :-1], mask)

# softmax: argmax one-hot, ignore voxels masked and set to background, background dropped ([1:])
out = logits(3)
seg = out.argmax(1)[:, None]
onehot = torch.zeros(out.shape, dtype=torch.float16).scatter_(1, seg, 1)
t = torch.from_numpy(labels[:, None].copy())
m = (t != IGNORE).float()
t[t == IGNORE] = 0
tp, fp, fn = counts(onehot, t, m)
print(json.dumps({'regions': regions_counts, 'softmax': [tp[1:], fp[1:], fn[1:]]}))
