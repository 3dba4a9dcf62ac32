"""Writes test/fixtures/nnunet-v2-model/predict/: a raw two-channel case and nnunetv2's own prediction of it through
two of the fixture's model folders (re-runnable; run make_v2_model.py first).

Run with Debian's python3: /usr/bin/python3 scripts/parity/make_v2_prediction.py
Needs the packages make_v2_model.py needs (nnunetv2 2.8.1 --no-deps, its missing optional imports stubbed).

What nnUNetPredictor.predict_from_files does per case, in this process (its worker pools would spawn processes
without the stubs): DefaultPreprocessor.run_case on the raw files with the model's plans (no seg),
predict_logits_from_preprocessed_data (every fold, mirroring, step 0.5, Gaussian), export_prediction_from_logits
(resampling_fn_probabilities back to the cropped shape, softmax, argmax, crop reverted, transpose reverted,
SimpleITKIO write_seg; with save_probabilities <case>.npz 'probabilities' + <case>.pkl).

A cascade stage too: a 3d_cascade_fullres model folder (the 3d_fullres PlainConvUNet plans with
3d_cascade_fullres inheriting from 3d_fullres, previous_stage 3d_lowres; 2 channels + 2 one-hot foreground labels
in, random weights) written under predict/, predicted with the ResEnc prediction as the previous stage, as
PreprocessAdapterFromDataIterator does (run_case with the previous segmentation as seg, one-hot stacked on the data).

And a region model (dataset.json labels whole = [1, 2], core = 2, regions_class_order [1, 2]: two sigmoid
outputs), 3d_fullres PlainConvUNet plans, random weights, with save_probabilities.

The raw case: 10 x 14 x 12 voxels (z, y, x) at (1.1, 0.8, 1.3) mm, so that transpose_forward [2, 0, 1], the
nonzero crop (a zero border on two sides) and resampling in both directions all matter.
"""
import os
import shutil
import sys

import numpy as np
import SimpleITK as sitk
import torch
import copy
import json

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_v2_model  # noqa: E402  (stubs nnunetv2's optional imports)
from nnunetv2.inference.export_prediction import export_prediction_from_logits  # noqa: E402
from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor  # noqa: E402
from nnunetv2.utilities.label_handling.label_handling import convert_labelmap_to_one_hot  # noqa: E402

OUT = os.path.join(make_v2_model.OUT, 'predict')
MODELS = {  # model folder -> save_probabilities
    'nnUNetTrainer__nnUNetResEncUNetMPlans__3d_fullres': True,
    'nnUNetTrainer__nnUNetPlans__2d': False,
}
CASE = 'case_001'


def write_raw_case(raw):
    rs = np.random.RandomState(42)
    shape = (10, 14, 12)
    z, y, x = np.meshgrid(*[np.arange(s) for s in shape], indexing='ij')
    blob = np.exp(-((z - 5) ** 2 / 8 + (y - 7) ** 2 / 12 + (x - 6) ** 2 / 10))
    channels = [600 + 500 * blob + 40 * rs.randn(*shape), 80 + 150 * blob + 20 * rs.randn(*shape)]
    os.makedirs(raw)
    files = []
    for i, c in enumerate(channels):
        c[:, :2, :] = 0  # a zero border: the nonzero crop removes it
        c[:, :, -1] = 0
        img = sitk.GetImageFromArray(c.astype(np.float32))
        img.SetSpacing((1.3, 0.8, 1.1))
        img.SetOrigin((10.0, -5.0, 2.5))
        img.SetDirection((0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0))
        f = os.path.join(raw, f'{CASE}_{i:04d}.nii.gz')
        sitk.WriteImage(img, f)
        files.append(f)
    return files


CASCADE = 'nnUNetTrainer__nnUNetPlans__3d_cascade_fullres'


def write_cascade_model():
    """A cascade stage's model folder: 3d_fullres plans + 3d_cascade_fullres, a network with one-hot inputs."""
    source = os.path.join(make_v2_model.OUT, make_v2_model.DATASET, 'nnUNetTrainer__nnUNetPlans__3d_fullres')
    with open(os.path.join(source, 'plans.json')) as f:
        plans = json.load(f)
    plans['configurations']['3d_cascade_fullres'] = {'inherits_from': '3d_fullres', 'previous_stage': '3d_lowres'}
    torch.manual_seed(77)
    network, inputs, patch = make_v2_model.build(plans, '3d_cascade_fullres')
    make_v2_model.perturb(network, torch.Generator().manual_seed(77))
    model_dir = os.path.join(OUT, make_v2_model.DATASET, CASCADE)
    os.makedirs(model_dir)
    for name, content in (('plans.json', plans), ('dataset.json', make_v2_model.DATASET_JSON)):
        with open(os.path.join(model_dir, name), 'w') as f:
            json.dump(content, f, indent=4, sort_keys=False)
    make_v2_model.write_fold(model_dir, 0, network, copy.deepcopy(plans), '3d_cascade_fullres', len(patch))
    print(f'{CASCADE}: {inputs} input channels')
    return model_dir


REGIONS = 'nnUNetTrainer__nnUNetPlans__3d_fullres_regions'
REGION_DATASET_JSON = dict(make_v2_model.DATASET_JSON, labels={'background': 0, 'whole': [1, 2], 'core': 2},
                           regions_class_order=[1, 2])


def write_region_model():
    """A region-based model folder: the 3d_fullres PlainConvUNet plans, one sigmoid output per region."""
    source = os.path.join(make_v2_model.OUT, make_v2_model.DATASET, 'nnUNetTrainer__nnUNetPlans__3d_fullres')
    with open(os.path.join(source, 'plans.json')) as f:
        plans = json.load(f)
    make_v2_model.DATASET_JSON, original = REGION_DATASET_JSON, make_v2_model.DATASET_JSON
    try:
        torch.manual_seed(78)
        network, _, patch = make_v2_model.build(plans, '3d_fullres')
        make_v2_model.perturb(network, torch.Generator().manual_seed(78))
        model_dir = os.path.join(OUT, make_v2_model.DATASET, REGIONS)
        os.makedirs(model_dir)
        for name, content in (('plans.json', plans), ('dataset.json', REGION_DATASET_JSON)):
            with open(os.path.join(model_dir, name), 'w') as f:
                json.dump(content, f, indent=4, sort_keys=False)
        make_v2_model.write_fold(model_dir, 0, network, copy.deepcopy(plans), '3d_fullres', len(patch))
    finally:
        make_v2_model.DATASET_JSON = original
    return model_dir


def predict(model, files, save_probabilities, model_dir=None, previous_stage=None):
    predictor = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=True, device=torch.device('cpu'),
                                perform_everything_on_device=False, verbose=False, allow_tqdm=False)
    predictor.initialize_from_trained_model_folder(model_dir or os.path.join(make_v2_model.OUT, make_v2_model.DATASET, model),
                                                   None, 'checkpoint_final.pth')
    preprocessor = predictor.configuration_manager.preprocessor_class(verbose=False)
    data, seg, properties = preprocessor.run_case(files, previous_stage, predictor.plans_manager,
                                                  predictor.configuration_manager, predictor.dataset_json)
    if previous_stage is not None:
        data = np.vstack((data, convert_labelmap_to_one_hot(seg[0], predictor.label_manager.foreground_labels, data.dtype)))
    logits = predictor.predict_logits_from_preprocessed_data(torch.from_numpy(data)).cpu().detach().numpy()
    out = os.path.join(OUT, 'expected', model)
    os.makedirs(out)
    export_prediction_from_logits(logits, properties, predictor.configuration_manager, predictor.plans_manager,
                                  predictor.dataset_json, os.path.join(out, CASE), save_probabilities)
    seg = sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(out, CASE + '.nii.gz')))
    print(f'{model}: preprocessed {data.shape}, logits {logits.dtype}, labels {np.bincount(seg.ravel())}')


def main():
    torch.set_num_threads(1)
    shutil.rmtree(OUT, ignore_errors=True)
    files = write_raw_case(os.path.join(OUT, 'raw'))
    for model, save_probabilities in MODELS.items():
        predict(model, files, save_probabilities)
    previous = os.path.join(OUT, 'expected', 'nnUNetTrainer__nnUNetResEncUNetMPlans__3d_fullres', CASE + '.nii.gz')
    predict(CASCADE, files, False, model_dir=write_cascade_model(), previous_stage=previous)
    predict(REGIONS, files, True, model_dir=write_region_model())


if __name__ == '__main__':
    main()
