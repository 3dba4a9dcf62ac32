"""Writes test/fixtures/nnunet-v1-model/: nnU-Net v1 models and nnU-Net's own predictions of them (re-runnable).

Run with Debian's python3: /usr/bin/python3 scripts/parity/make_nnunet_v1_model.py
Needs nnU-Net v1 (pip install --break-system-packages nnunet==1.7.1 --no-deps, plus batchgenerators,
SimpleITK, medpy, scikit-learn, ... pinned as in make_pickle_fixtures.py) and Debian's python3-torch (CPU).

What it does, all with nnU-Net's own code: writes a tiny single-modality task (anisotropic spacing, so the
plans transpose the axes, and a zero border, so cropping and the non-zero mask matter), crops, analyses, plans
(3D and 2D v2.1 planners) and preprocesses it, then builds nnUNetTrainerV2 models for 2d and 3d_fullres, folds 0
and 1, randomly initialised (biases and instance-norm parameters randomised too, so every parameter kind
matters) with base_num_features 8 so the fixture stays small, and saves them with the trainer's
save_checkpoint (model_final_checkpoint.model + .model.pkl, plans.pkl in the model folder). Then
nnU-Net's predict_from_folder predicts the test cases with both folds, TTA on and off, on the CPU
(mixed precision off, one thread). The softmax nnU-Net exports (cropped grid, original axis order) is kept
as float32 instead of nnU-Net's float16, so the comparison can be tight.

Output layout:
  results/nnUNet/<cfg>/Task901_V1Tiny/nnUNetTrainerV2__nnUNetPlansv2.1/   the model folders (2d also has
      model_latest.model: the final checkpoint's weights in torch's legacy format)
  imagesTs/<case>_0000.nii.gz                                              the test inputs
  expected/<cfg>_tta|notta/<case>.nii.gz, <case>.npz (softmax float32)     nnU-Net's predictions
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'test', 'fixtures', 'nnunet-v1-model')
TASK = 'Task901_V1Tiny'
TRAINER = 'nnUNetTrainerV2'
PLANS = 'nnUNetPlansv2.1'
NUM_TRAIN = 4
TEST_CASES = ('test_000', 'test_001')
BASE_FEATURES = 8
FOLDS = (0, 1)


def case_arrays(rng, shape):
    """An image with a zero border (cropped away by nnU-Net) and two nested labels inside."""
    image = np.zeros(shape, np.float32)
    label = np.zeros(shape, np.uint8)
    inner = tuple(slice(2, n - 2) for n in shape)
    image[inner] = rng.normal(200, 30, size=image[inner].shape)
    z, y, x = shape
    label[z // 4: 3 * z // 4, y // 4: 3 * y // 4, x // 4: 3 * x // 4] = 1
    label[z // 3: z // 2 + 1, y // 3: y // 2 + 1, x // 3: x // 2 + 1] = 2
    image[label == 1] += 60
    image[label == 2] += 120
    return image, label


def write_nifti(arr, path):
    import SimpleITK as sitk
    itk = sitk.GetImageFromArray(arr)
    # x spacing 2: the largest spacing lies on the last array axis, so nnU-Net's plans transpose the axes.
    itk.SetSpacing((2.0, 1.0, 1.0))
    itk.SetOrigin((4.0, -3.0, 1.5))
    sitk.WriteImage(itk, path)


def write_raw_task(raw_base):
    task_dir = os.path.join(raw_base, 'nnUNet_raw_data', TASK)
    for sub in ('imagesTr', 'labelsTr', 'imagesTs'):
        os.makedirs(os.path.join(task_dir, sub), exist_ok=True)
    rng = np.random.RandomState(901)
    training = []
    for i in range(NUM_TRAIN):
        image, label = case_arrays(rng, (20 + i % 2, 24, 14))
        name = 'case_%03d' % i
        write_nifti(image, os.path.join(task_dir, 'imagesTr', name + '_0000.nii.gz'))
        write_nifti(label, os.path.join(task_dir, 'labelsTr', name + '.nii.gz'))
        training.append({'image': './imagesTr/%s.nii.gz' % name, 'label': './labelsTr/%s.nii.gz' % name})
    for i, name in enumerate(TEST_CASES):
        image, _ = case_arrays(rng, (19 + 3 * i, 26 - 2 * i, 13 + i))
        write_nifti(image, os.path.join(task_dir, 'imagesTs', name + '_0000.nii.gz'))
    dataset = {'name': 'V1Tiny', 'description': 'nnU-Net v1 model fixture', 'tensorImageSize': '3D', 'reference': '',
               'licence': '', 'release': '0.0', 'modality': {'0': 'MRI'},
               'labels': {'0': 'background', '1': 'outer', '2': 'inner'},
               'numTraining': NUM_TRAIN, 'numTest': len(TEST_CASES), 'training': training,
               'test': ['./imagesTs/%s.nii.gz' % n for n in TEST_CASES]}
    with open(os.path.join(task_dir, 'dataset.json'), 'w') as f:
        json.dump(dataset, f)
    return task_dir


def plan_and_preprocess():
    from nnunet.experiment_planning.utils import crop
    from nnunet.experiment_planning.DatasetAnalyzer import DatasetAnalyzer
    from nnunet.experiment_planning.experiment_planner_baseline_3DUNet_v21 import ExperimentPlanner3D_v21
    from nnunet.experiment_planning.experiment_planner_baseline_2DUNet_v21 import ExperimentPlanner2D_v21
    from nnunet.paths import nnUNet_cropped_data, preprocessing_output_dir
    from batchgenerators.utilities.file_and_folder_operations import load_pickle, save_pickle
    crop(TASK, False, 1)
    cropped = os.path.join(nnUNet_cropped_data, TASK)
    DatasetAnalyzer(cropped, overwrite=False, num_processes=1).analyze_dataset(True)
    preprocessed = os.path.join(preprocessing_output_dir, TASK)
    os.makedirs(preprocessed, exist_ok=True)
    shutil.copy(os.path.join(cropped, 'dataset.json'), preprocessed)
    shutil.copy(os.path.join(cropped, 'dataset_properties.pkl'), preprocessed)
    for planner_cls in (ExperimentPlanner3D_v21, ExperimentPlanner2D_v21):
        planner = planner_cls(cropped, preprocessed)
        planner.plan_experiment()
        planner.run_preprocessing(1 if planner_cls is ExperimentPlanner2D_v21 else (1,) * planner.plans['num_stages'])
    for kind in ('3D', '2D'):
        # A smaller network than nnU-Net's 32 base features keeps the committed models a few hundred kB.
        plans_file = os.path.join(preprocessed, '%s_plans_%s.pkl' % (PLANS, kind))
        plans = load_pickle(plans_file)
        plans['base_num_features'] = BASE_FEATURES
        save_pickle(plans, plans_file)
    return preprocessed


def make_model(configuration, fold, preprocessed, results):
    import torch
    from nnunet.training.network_training.nnUNetTrainerV2 import nnUNetTrainerV2
    kind = '2D' if configuration == '2d' else '3D'
    plans_file = os.path.join(preprocessed, '%s_plans_%s.pkl' % (PLANS, kind))
    from batchgenerators.utilities.file_and_folder_operations import load_pickle
    stage = 0 if configuration == '2d' else len(load_pickle(plans_file)['plans_per_stage']) - 1
    output_folder = os.path.join(results, 'nnUNet', configuration, TASK, '%s__%s' % (TRAINER, PLANS))
    torch.manual_seed(1000 * (configuration == '2d') + fold)
    trainer = nnUNetTrainerV2(plans_file, fold, output_folder, preprocessed, False, stage, True, False, False)
    trainer.initialize(False)
    gen = torch.Generator().manual_seed(77 + fold)
    with torch.no_grad():
        for name, p in trainer.network.named_parameters():
            if name.endswith('bias') or 'instnorm' in name:
                base = 1.0 if name.endswith('instnorm.weight') else 0.0
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=gen))
    trainer.save_checkpoint(os.path.join(trainer.output_folder, 'model_final_checkpoint.model'))
    if not os.path.isfile(os.path.join(output_folder, 'plans.pkl')):
        shutil.copy(plans_file, os.path.join(output_folder, 'plans.pkl'))
    return output_folder


def save_legacy_copy(fold_dir):
    """model_latest.model: the same weights in torch's legacy (pre-1.6) pickle-stream format, as older public models are."""
    import torch
    checkpoint = torch.load(os.path.join(fold_dir, 'model_final_checkpoint.model'), map_location='cpu')
    torch.save(checkpoint, os.path.join(fold_dir, 'model_latest.model'), _use_new_zipfile_serialization=False)
    shutil.copy(os.path.join(fold_dir, 'model_final_checkpoint.model.pkl'), os.path.join(fold_dir, 'model_latest.model.pkl'))


def keep_float32_softmax():
    """nnU-Net exports the softmax as float16; keep float32 so the expected values are exact to ~1e-7."""
    import nnunet.inference.segmentation_export as export

    class Float32Numpy:
        def __getattr__(self, name):
            return np.float32 if name == 'float16' else getattr(np, name)

    export.np = Float32Numpy()


def predict(model_folder, input_folder, output_folder, tta):
    from nnunet.inference.predict import predict_from_folder
    predict_from_folder(model_folder, input_folder, output_folder, list(FOLDS), True, 1, 1, None, 0, 1, tta,
                        overwrite_existing=True, mode='normal', overwrite_all_in_gpu=None, mixed_precision=False,
                        step_size=0.5, checkpoint_name='model_final_checkpoint')


def main():
    work = tempfile.mkdtemp(prefix='nnunet-v1-model-')
    for var, sub in (('nnUNet_raw_data_base', 'raw'), ('nnUNet_preprocessed', 'preprocessed'), ('RESULTS_FOLDER', 'results')):
        os.environ[var] = os.path.join(work, sub)
        os.makedirs(os.environ[var], exist_ok=True)
    import torch
    torch.set_num_threads(1)
    task_dir = write_raw_task(os.environ['nnUNet_raw_data_base'])
    preprocessed = plan_and_preprocess()
    keep_float32_softmax()
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    shutil.copytree(os.path.join(task_dir, 'imagesTs'), os.path.join(OUT, 'imagesTs'))
    for configuration in ('2d', '3d_fullres'):
        for fold in FOLDS:
            model_folder = make_model(configuration, fold, preprocessed, os.environ['RESULTS_FOLDER'])
        for tta in (True, False):
            out = os.path.join(work, 'pred', '%s_%s' % (configuration, 'tta' if tta else 'notta'))
            predict(model_folder, os.path.join(task_dir, 'imagesTs'), out, tta)
            expected = os.path.join(OUT, 'expected', os.path.basename(out))
            os.makedirs(expected)
            for name in TEST_CASES:
                shutil.copy(os.path.join(out, name + '.nii.gz'), expected)
                softmax = np.load(os.path.join(out, name + '.npz'))['softmax'].astype(np.float32)
                np.savez_compressed(os.path.join(expected, name + '.npz'), softmax=softmax)
    results = os.path.join(OUT, 'results', 'nnUNet')
    for configuration in ('2d', '3d_fullres'):
        src = os.path.join(os.environ['RESULTS_FOLDER'], 'nnUNet', configuration, TASK, '%s__%s' % (TRAINER, PLANS))
        dst = os.path.join(results, configuration, TASK, '%s__%s' % (TRAINER, PLANS))
        os.makedirs(dst)
        shutil.copy(os.path.join(src, 'plans.pkl'), dst)
        for fold in FOLDS:
            fold_dst = os.path.join(dst, 'fold_%d' % fold)
            os.makedirs(fold_dst)
            for f in ('model_final_checkpoint.model', 'model_final_checkpoint.model.pkl'):
                shutil.copy(os.path.join(src, 'fold_%d' % fold, f), fold_dst)
            if configuration == '2d':
                save_legacy_copy(fold_dst)
    shutil.rmtree(work)
    print('wrote', os.path.abspath(OUT))


if __name__ == '__main__':
    sys.exit(main())
