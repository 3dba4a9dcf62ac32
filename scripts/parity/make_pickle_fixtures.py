"""Writes the nnU-Net v1 file fixtures under test/fixtures/nnunet-files/ (re-runnable, deterministic data).

Run with Debian's python3: /usr/bin/python3 scripts/parity/make_pickle_fixtures.py
Needs numpy and torch (apt: python3-numpy, python3-torch). When nnU-Net v1 is importable
(pip install --break-system-packages nnunet==1.7.1 batchgenerators==0.25 SimpleITK==2.3.1 medpy==0.4.0
threadpoolctl==3.2.0 scikit-learn==1.2.2 joblib==1.3.2 --no-deps), the pickles come from nnU-Net's own
code: cropping, dataset analysis, both v2.1 planners, preprocessing, the default split and a trainer's
save_checkpoint. Torch checkpoints are built here so they stay small and cover float16 and strided tensors.
"""
import collections
import json
import os
import pickle
import shutil
import sys
import tempfile

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'nnunet-files')
TASK = 'Task099_PickleFixture'
NUM_CASES = 6


def write_raw_task(raw_base):
    import SimpleITK as sitk
    task_dir = os.path.join(raw_base, 'nnUNet_raw_data', TASK)
    for sub in ('imagesTr', 'labelsTr', 'imagesTs'):
        os.makedirs(os.path.join(task_dir, sub), exist_ok=True)
    rng = np.random.RandomState(1234)
    training = []
    for i in range(NUM_CASES):
        shape = (12 + i % 2, 20, 24)  # z, y, x as SimpleITK arrays are
        image = rng.normal(100, 20, size=shape).astype(np.float32)
        label = np.zeros(shape, np.uint8)
        label[3:9, 5:15, 6:18] = 1
        label[5:7, 8:12, 10:14] = 2
        image[label > 0] += 50
        name = 'case_%03d' % i
        for arr, path in ((image, 'imagesTr/%s_0000.nii.gz' % name), (label, 'labelsTr/%s.nii.gz' % name)):
            itk = sitk.GetImageFromArray(arr)
            itk.SetSpacing((0.8, 0.8, 2.5 + 0.1 * (i % 3)))
            itk.SetOrigin((1.0, -2.0, 3.5))
            sitk.WriteImage(itk, os.path.join(task_dir, path))
        training.append({'image': './imagesTr/%s.nii.gz' % name, 'label': './labelsTr/%s.nii.gz' % name})
    dataset = {'name': 'PickleFixture', 'description': 'fixture', 'tensorImageSize': '3D', 'reference': '',
               'licence': '', 'release': '0.0', 'modality': {'0': 'MRI'},
               'labels': {'0': 'background', '1': 'outer', '2': 'inner'},
               'numTraining': NUM_CASES, 'numTest': 0, 'training': training, 'test': []}
    with open(os.path.join(task_dir, 'dataset.json'), 'w') as f:
        json.dump(dataset, f)


def run_nnunet_pipeline(work):
    """nnU-Net's own cropping, analysis, planning (3D and 2D v2.1), preprocessing, split and .model.pkl."""
    for var, sub in (('nnUNet_raw_data_base', 'raw'), ('nnUNet_preprocessed', 'preprocessed'), ('RESULTS_FOLDER', 'results')):
        os.environ[var] = os.path.join(work, sub)
        os.makedirs(os.environ[var], exist_ok=True)
    write_raw_task(os.environ['nnUNet_raw_data_base'])
    from nnunet.experiment_planning.utils import crop
    from nnunet.experiment_planning.DatasetAnalyzer import DatasetAnalyzer
    from nnunet.experiment_planning.experiment_planner_baseline_3DUNet_v21 import ExperimentPlanner3D_v21
    from nnunet.experiment_planning.experiment_planner_baseline_2DUNet_v21 import ExperimentPlanner2D_v21
    from nnunet.paths import nnUNet_cropped_data, preprocessing_output_dir
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
    shutil.copy(os.path.join(preprocessed, 'nnUNetPlansv2.1_plans_3D.pkl'), OUT)
    shutil.copy(os.path.join(preprocessed, 'nnUNetPlansv2.1_plans_2D.pkl'), OUT)
    shutil.copy(os.path.join(cropped, 'dataset_properties.pkl'), OUT)
    shutil.copy(os.path.join(cropped, 'case_000.pkl'), os.path.join(OUT, 'case_000_cropped.pkl'))
    shutil.copy(os.path.join(preprocessed, 'nnUNetData_plans_v2.1_stage0', 'case_000.pkl'), OUT)
    write_model_pkl(preprocessed, work)


def write_model_pkl(preprocessed, work):
    from nnunet.training.network_training.nnUNetTrainerV2 import nnUNetTrainerV2
    output_folder = os.path.join(work, 'trainer')
    trainer = nnUNetTrainerV2(os.path.join(preprocessed, 'nnUNetPlansv2.1_plans_3D.pkl'), 0, output_folder,
                              preprocessed, True, 0, False, True, False)
    trainer.initialize(False)
    from nnunet.training.dataloading.dataset_loading import load_dataset
    trainer.dataset = load_dataset(trainer.folder_with_preprocessed_data)
    trainer.do_split()  # writes splits_final.pkl with nnU-Net's seeded KFold, as training does
    shutil.copy(os.path.join(preprocessed, 'splits_final.pkl'), OUT)
    trainer.save_checkpoint(os.path.join(output_folder, 'model_final_checkpoint.model'))
    shutil.copy(os.path.join(output_folder, 'model_final_checkpoint.model.pkl'), OUT)
    write_tiny_trainer_checkpoint(preprocessed, work)


def write_tiny_trainer_checkpoint(preprocessed, work):
    """A checkpoint saved by nnU-Net's own trainer (module state_dict, optimizer state, plot_stuff, best_stuff),
    its network shrunk to 2 base features so that the file stays small."""
    from nnunet.training.network_training.nnUNetTrainerV2 import nnUNetTrainerV2
    with open(os.path.join(preprocessed, 'nnUNetPlansv2.1_plans_3D.pkl'), 'rb') as f:
        plans = pickle.load(f)
    plans['base_num_features'] = 2
    tiny_plans = os.path.join(preprocessed, 'tiny_plans_3D.pkl')
    with open(tiny_plans, 'wb') as f:
        pickle.dump(plans, f)
    output_folder = os.path.join(work, 'tiny_trainer')
    torch.manual_seed(5)
    trainer = nnUNetTrainerV2(tiny_plans, 0, output_folder, preprocessed, True, 0, False, True, False)
    trainer.initialize(False)
    trainer.save_checkpoint(os.path.join(output_folder, 'model_final_checkpoint.model'))
    shutil.copy(os.path.join(output_folder, 'model_final_checkpoint.model'), os.path.join(OUT, 'nnunet_trainer.model'))
    state = trainer.network.state_dict()
    expected = {k: {'shape': list(v.shape), 'sum': float(v.double().sum()), 'first': float(v.flatten()[0])} for k, v in state.items()}
    with open(os.path.join(OUT, 'nnunet_trainer_expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)


def small_checkpoint():
    """An nnU-Net-shaped checkpoint dict: float32, float16, transposed and sliced tensors, optimizer state."""
    g = torch.Generator().manual_seed(7)
    base = torch.randn(4, 3, 3, 3, 3, generator=g)
    sd = torch.nn.Conv3d(1, 1, 1).state_dict()  # a module's state_dict: an OrderedDict with a _metadata attribute
    sd.clear()
    sd['conv_blocks_context.0.blocks.0.conv.weight'] = base
    sd['conv_blocks_context.0.blocks.0.conv.bias'] = torch.randn(4, generator=g)
    sd['seg_outputs.0.weight'] = torch.randn(3, 4, 1, 1, 1, generator=g).half()
    sd['transposed'] = torch.arange(12, dtype=torch.float32).reshape(3, 4).t()  # strides (1, 4)
    sd['sliced'] = torch.arange(20, dtype=torch.float32).reshape(4, 5)[1:3, ::2]  # offset 5, strides (5, 2)
    sd['double'] = torch.tensor([1.5, -2.25], dtype=torch.float64)
    sd['scalar'] = torch.tensor(3.0)
    optimizer = {'state': {0: {'momentum_buffer': torch.ones(2, 2)}},
                 'param_groups': [{'lr': 0.01, 'momentum': 0.99, 'nesterov': True, 'params': [0, 1]}]}
    return {'epoch': 3, 'state_dict': sd, 'optimizer_state_dict': optimizer, 'lr_scheduler_state_dict': None,
            'plot_stuff': ([0.5, 0.25], [0.6, 0.3], [], [0.1, 0.2]), 'best_stuff': (2, 0.25, 0.2),
            'amp_grad_scaler': {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5,
                                'growth_interval': 2000, '_growth_tracker': 0}}


def write_checkpoints():
    ckpt = small_checkpoint()
    torch.save(ckpt, os.path.join(OUT, 'checkpoint_zip.model'))
    torch.save(ckpt, os.path.join(OUT, 'checkpoint_legacy.model'), _use_new_zipfile_serialization=False)
    expected = {k: {'shape': list(v.shape), 'dtype': str(v.dtype).replace('torch.', ''),
                    'values': v.float().flatten().tolist()} for k, v in ckpt['state_dict'].items()}
    with open(os.path.join(OUT, 'checkpoint_expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)


def write_python_values():
    """Every value kind the reader handles, at every protocol, with the expected values as JSON."""
    value = {
        'int': 7, 'neg': -300000, 'big': 2 ** 70, 'float': 2.5, 'whole_float': 1.0, 'str': 'héllo', 'bytes': b'\x00\xff',
        'none': None, 'bool': True, 'tuple': (1, 'a'), 'list': [1, [2, 3]], 'set': {3}, 'od': collections.OrderedDict([('b', 1), ('a', 2)]),
        3: 'int key',
        'f64': np.array([[1.5, 2.0], [3.0, 4.0]]), 'f32': np.arange(3, dtype=np.float32), 'f16': np.array([0.5, -2], np.float16),
        'i64': np.array([1, -2], np.int64), 'i32': np.array([5], np.int32), 'i16': np.array([-7], np.int16), 'u8': np.array([255], np.uint8),
        'b': np.array([True, False]), 'fortran': np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)),
        'strs': np.array(['case_000', 'x']), 'objs': np.array([1, 2.5, 'z'], dtype=object), 'big_endian': np.array([1, 2], '>i4'),
        'np_f64': np.float64(0.25), 'np_i64': np.int64(9), 'np_bool': np.bool_(True), 'empty': np.zeros((0, 3)),
    }
    for protocol in range(6):
        with open(os.path.join(OUT, 'values_p%d.pkl' % protocol), 'wb') as f:
            pickle.dump(value, f, protocol=protocol)


def main():
    os.makedirs(OUT, exist_ok=True)
    write_python_values()
    write_checkpoints()
    try:
        import nnunet  # noqa: F401
    except ImportError:
        print('nnunet (v1) is not importable: only the value and checkpoint fixtures were written', file=sys.stderr)
        return
    work = os.path.join(tempfile.gettempdir(), 'nnunet-pickle-fixtures')  # fixed: the paths inside the pickles stay the same
    shutil.rmtree(work, ignore_errors=True)
    try:
        run_nnunet_pipeline(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print('fixtures written to', os.path.normpath(OUT))


if __name__ == '__main__':
    main()
