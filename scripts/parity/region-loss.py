"""Reference values for test/training/region-loss.test.ts: nnunetv2's DC_and_BCE_loss (regions, with and without the
ignore label) and DC_and_CE_loss with ignore_label on a fixed tiny batch. Run: /usr/bin/python3 scripts/parity/region-loss.py"""
import json
import math
import numpy as np
import torch
from nnunetv2.training.loss.compound_losses import DC_and_BCE_loss, DC_and_CE_loss
from nnunetv2.training.loss.dice import MemoryEfficientSoftDiceLoss

B, H, W = 2, 4, 5
n = B * H * W
labels = np.array([(i * 7 + 3) % 4 for i in range(n)], dtype=np.int64).reshape(B, H, W)  # values 0..3, 3 = ignore
regions = [(1, 2), (2,)]
IGNORE = 3


def logits(channels):
    x = np.array([math.sin(0.37 * i + 0.5) * 2 for i in range(n * channels)], dtype=np.float32)
    return x.reshape(B, H, W, channels)  # channels last, as nnunet-ts


def to_torch(x):
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1)))


def region_target(seg, with_ignore):
    chans = [np.isin(seg, r) for r in regions] + ([seg == IGNORE] if with_ignore else [])
    return torch.from_numpy(np.stack(chans, 1).astype(np.float32))


out = {'labels': labels.ravel().tolist()}
for batch_dice in (False, True):
    x = logits(2)
    seg_noignore = np.where(labels == IGNORE, 0, labels)
    bce = DC_and_BCE_loss({}, {'batch_dice': batch_dice, 'do_bg': True, 'smooth': 1e-5, 'ddp': False}, use_ignore_label=False,
                          dice_class=MemoryEfficientSoftDiceLoss)
    out[f'regions_bd{int(batch_dice)}'] = {'logits': x.ravel().tolist(), 'labels': seg_noignore.ravel().tolist(),
                                           'loss': float(bce(to_torch(x), region_target(seg_noignore, False)))}
    bce_i = DC_and_BCE_loss({}, {'batch_dice': batch_dice, 'do_bg': True, 'smooth': 1e-5, 'ddp': False}, use_ignore_label=True,
                            dice_class=MemoryEfficientSoftDiceLoss)
    out[f'regions_ignore_bd{int(batch_dice)}'] = {'logits': x.ravel().tolist(), 'labels': labels.ravel().tolist(),
                                                  'loss': float(bce_i(to_torch(x), region_target(labels, True)))}
    x3 = logits(3)
    ce = DC_and_CE_loss({'batch_dice': batch_dice, 'smooth': 1e-5, 'do_bg': False, 'ddp': False}, {}, weight_ce=1, weight_dice=1,
                        ignore_label=IGNORE, dice_class=MemoryEfficientSoftDiceLoss)
    out[f'softmax_ignore_bd{int(batch_dice)}'] = {'logits': x3.ravel().tolist(), 'labels': labels.ravel().tolist(),
                                                  'loss': float(ce(to_torch(x3), torch.from_numpy(labels[:, None])))}
print(json.dumps(out))
