"""
nnunetv2's resample_and_save (export_prediction.py) on the logits v2-next-stage.ts wrote: CHECK_DIR/logits.npy
(heads, z, y, x, float16 values) with CHECK_DIR/plans.json, dataset.json and case.json ({spacing, target_shape,
shape_after_cropping_and_before_resampling}), as nnUNetTrainer.perform_actual_validation calls it for a next
stage; writes CHECK_DIR/torch_case.npz (nnUNetDatasetNumpy.save_seg). blosc2 is stubbed when missing.
Usage: /usr/bin/python3 v2_next_stage.py CHECK_DIR (run by v2-next-stage.ts).
"""
import json
import sys
import types
from unittest import mock

try:
    import blosc2  # noqa: F401
except ImportError:
    stub = mock.MagicMock()
    stub.ndarray = types.SimpleNamespace(NDArray=object)
    stub.NDArray = object
    sys.modules['blosc2'] = stub
import numpy as np
import torch
from nnunetv2.inference.export_prediction import resample_and_save
from nnunetv2.training.dataloading.nnunet_dataset import nnUNetDatasetNumpy
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

check = sys.argv[1]
plans = json.load(open(f'{check}/plans.json'))
ds = json.load(open(f'{check}/dataset.json'))
case = json.load(open(f'{check}/case.json'))
pm = PlansManager(plans)
cm = pm.get_configuration('3d_lowres')
logits = torch.from_numpy(np.load(f'{check}/logits.npy')).half()
resample_and_save(logits, case['target_shape'], f'{check}/torch_case', pm, cm, case, ds, 1, nnUNetDatasetNumpy)
seg = np.load(f'{check}/torch_case.npz')['seg']
print(json.dumps({'dtype': str(seg.dtype), 'shape': list(seg.shape), 'counts': np.bincount(seg.ravel()).tolist()}))
