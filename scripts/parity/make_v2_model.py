"""Writes test/fixtures/nnunet-v2-model/: tiny nnU-Net v2 model folders and their networks' raw logits (re-runnable).

Run with Debian's python3: /usr/bin/python3 scripts/parity/make_v2_model.py
Needs (pure python, --no-deps): pip install --break-system-packages --no-deps dynamic-network-architectures nnunetv2
acvl-utils batchgeneratorsv2; and Debian's python3-torch (CPU, 1.13). blosc2 is stubbed: nothing here reads
compressed data, nnunetv2 only names it in type hints.

What it does, with nnU-Net v2's own code: takes the 2d and 3d_fullres configurations of two reference plans
(nnUNetPlans: PlainConvUNet, nnUNetResEncUNetMPlans: ResidualEncoderUNet) from the planner vectors, shrinks
their architecture (3 stages of 4/8/16 features, ResEnc 4/8/8; 3D with an anisotropic first stage: kernel 1x3x3, stride
1x2x2) so the fixture stays small, and builds each network exactly as nnUNetTrainer.build_network_architecture
does at inference (get_network_from_plans, input channels from determine_num_input_channels, outputs from the
LabelManager, deep supervision off). Weights: nnU-Net's He init, then every parameter perturbed (norm scales,
biases, ResEnc's zero-initialised last norms too), so each parameter kind matters. Saved as nnUNetTrainer's
save_checkpoint does (network_weights = the full state_dict with its aliases, optimizer_state, init_args, ...).
For each model: a random input patch and the network's logits in eval mode.

Output layout (one model folder per network, as nnU-Net v2's nnUNet_results):
  Dataset999_V2Tiny/nnUNetTrainer__<plans>__<cfg>/{plans.json, dataset.json, fold_0/checkpoint_final.pth}
  expected/<plans>__<cfg>/{input.npy, logits.npy}   float32, channels first: (1, C, *patch), (1, classes, *patch)
"""
import copy
import json
import os
import shutil
import sys
import types

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'nnunet-v2-model')
VECTORS = os.path.join(ROOT, 'test', 'fixtures', 'vectors', 'planner_nnunet_v2.json')
DATASET = 'Dataset999_V2Tiny'


class Stub(types.ModuleType):
    """A module whose every attribute is another stub: for imports nnunetv2 only names in type hints or in code
    this script never runs (compressed datasets, plots, connected components, torch 2's compiler)."""

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return Stub(f'{self.__name__}.{name}')

    def __call__(self, *args, **kwargs):
        return None


def stub_missing(names):
    for name in names:
        try:
            __import__(name)
        except ImportError:
            sys.modules[name] = Stub(name)
    sys.modules['blosc2'].ndarray.NDArray = type('NDArray', (), {})
    sys.modules['torch._dynamo'].OptimizedModule = type('OptimizedModule', (), {})


stub_missing(['blosc2', 'cc3d', 'seaborn', 'torch._dynamo'])
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager  # noqa: E402
from nnunetv2.utilities.get_network_from_plans import get_network_from_plans  # noqa: E402
from nnunetv2.utilities.label_handling.label_handling import determine_num_input_channels  # noqa: E402
from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor  # noqa: E402

DATASET_JSON = {
    'channel_names': {'0': 'T1', '1': 'T2'},
    'labels': {'background': 0, 'left': 1, 'right': 2},
    'numTraining': 4,
    'file_ending': '.nii.gz',
    'name': DATASET,
}

TINY = {
    '2d': {'patch_size': [16, 16], 'kernel_sizes': [[3, 3], [3, 3], [3, 3]], 'strides': [[1, 1], [2, 2], [2, 2]]},
    '3d_fullres': {'patch_size': [8, 16, 16], 'kernel_sizes': [[1, 3, 3], [3, 3, 3], [3, 3, 3]],
                   'strides': [[1, 1, 1], [1, 2, 2], [2, 2, 2]]},
}
# preprocessed cases predicted by nnUNetPredictor: a 2d model over a 3D case (slice by slice, 2 folds averaged);
# a 3d model over a case thinner than the patch along z (padded) and tiled along y and x
SLIDING_WINDOW_CASES = {
    ('nnUNetPlans', '2d'): {'shape': (2, 24, 21), 'second_fold': True},
    ('nnUNetResEncUNetMPlans', '3d_fullres'): {'shape': (6, 20, 18), 'second_fold': False},
}
# ResEnc keeps 8 features into its last stage, as the real ones do at their feature cap: that block's skip is
# the average pool alone, without a 1x1 projection
PLANS = {'nnUNetPlans': {'features_per_stage': [4, 8, 16], 'n_conv_per_stage': [2, 2, 2], 'n_conv_per_stage_decoder': [2, 2]},
         'nnUNetResEncUNetMPlans': {'features_per_stage': [4, 8, 8], 'n_blocks_per_stage': [1, 2, 2], 'n_conv_per_stage_decoder': [1, 1]}}


def tiny_plans(reference, plans_name):
    """The reference plans with 2d and 3d_fullres only, their networks shrunk."""
    plans = copy.deepcopy(reference)
    plans['dataset_name'] = DATASET
    plans['configurations'] = {c: plans['configurations'][c] for c in TINY}
    for cfg, tiny in TINY.items():
        c = plans['configurations'][cfg]
        c['patch_size'] = tiny['patch_size']
        c['batch_size'] = 2
        kw = c['architecture']['arch_kwargs']
        kw.update(n_stages=3, kernel_sizes=tiny['kernel_sizes'], strides=tiny['strides'])
        kw.update(PLANS[plans_name])
    two_channel_normalization(plans)
    return plans


def two_channel_normalization(plans):
    """The reference plans normalize one channel; DATASET_JSON has two, and predicting a raw case (make_v2_prediction.py)
    normalizes each: channel 0 ZScore, channel 1 CT with its own intensity properties."""
    plans['foreground_intensity_properties_per_channel']['1'] = {
        'mean': 120.5, 'median': 110.25, 'std': 60.75, 'min': 2.0, 'max': 400.0, 'percentile_99_5': 300.0, 'percentile_00_5': 10.0}
    for c in plans['configurations'].values():
        c['normalization_schemes'] = ['ZScoreNormalization', 'CTNormalization']
        c['use_mask_for_norm'] = [False, False]


def perturb(network, generator):
    """He init as nnU-Net, then every parameter moved, so norms and biases are not 1/0."""
    with torch.no_grad():
        for name, p in network.named_parameters():
            noise = torch.randn(p.shape, generator=generator)
            if name.endswith('norm.weight') or '.all_modules.1.weight' in name:
                p.copy_(1 + 0.3 * noise)
            elif name.endswith('.bias'):
                p.copy_(0.2 * noise)
            else:
                p.add_(0.05 * noise)


def build(plans, cfg):
    pm = PlansManager(plans)
    cm = pm.get_configuration(cfg)
    inputs = determine_num_input_channels(pm, cm, DATASET_JSON)
    outputs = pm.get_label_manager(DATASET_JSON).num_segmentation_heads
    # nnUNetTrainer.build_network_architecture, as nnUNetPredictor calls it (enable_deep_supervision=False)
    network = get_network_from_plans(cm.network_arch_class_name, cm.network_arch_init_kwargs,
                                     cm.network_arch_init_kwargs_req_import, inputs, outputs,
                                     allow_init=True, deep_supervision=False)
    return network, inputs, cm.patch_size


def checkpoint(network, plans, cfg, dims):
    """The dict nnUNetTrainer.save_checkpoint writes (a fresh optimizer: no momentum buffers)."""
    optimizer = torch.optim.SGD(network.parameters(), 0.01, weight_decay=3e-5, momentum=0.99, nesterov=True)
    return {
        'network_weights': network.state_dict(),
        'optimizer_state': optimizer.state_dict(),
        'grad_scaler_state': None,
        'logging': {'mean_fg_dice': [0.5], 'ema_fg_dice': [0.5], 'dice_per_class_or_region': [[0.5, 0.5]],
                    'train_losses': [0.1], 'val_losses': [0.2], 'lrs': [0.01], 'epoch_start_timestamps': [0.0],
                    'epoch_end_timestamps': [1.0]},
        '_best_ema': 0.5,
        'current_epoch': 1,
        'init_args': {'plans': plans, 'configuration': cfg, 'fold': 0, 'dataset_json': DATASET_JSON,
                      'device': torch.device('cpu')},
        'trainer_name': 'nnUNetTrainer',
        'inference_allowed_mirroring_axes': tuple(range(dims)),
    }


def write_fold(model_dir, fold, network, plans, cfg, dims):
    os.makedirs(os.path.join(model_dir, f'fold_{fold}'))
    torch.save(checkpoint(network, plans, cfg, dims), os.path.join(model_dir, f'fold_{fold}', 'checkpoint_final.pth'))


def sliding_window_reference(model_dir, expected, channels, shape, generator):
    """nnUNetPredictor's logits of a preprocessed case (every fold, mirroring on, step 0.5, Gaussian), on the CPU."""
    predictor = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=True, device=torch.device('cpu'),
                                perform_everything_on_device=False, verbose=False, allow_tqdm=False)
    predictor.initialize_from_trained_model_folder(model_dir, None, 'checkpoint_final.pth')
    data = torch.randn((channels, *shape), generator=generator)
    logits = predictor.predict_logits_from_preprocessed_data(data)
    np.save(os.path.join(expected, 'preprocessed.npy'), data.numpy().astype(np.float32))
    # nnUNetPredictor accumulates in float16; float32 holds those values exactly
    np.save(os.path.join(expected, 'sliding_window_logits.npy'), logits.float().numpy())
    print(f'  sliding window: {len(predictor.list_of_parameters)} fold(s), case {tuple(data.shape)} -> {logits.dtype} {tuple(logits.shape)}')


def write_model(reference, plans_name, cfg, seed):
    plans = tiny_plans(reference, plans_name)
    torch.manual_seed(seed)
    network, inputs, patch = build(plans, cfg)
    generator = torch.Generator().manual_seed(seed)
    perturb(network, generator)
    network.eval()
    model_dir = os.path.join(OUT, DATASET, f'nnUNetTrainer__{plans_name}__{cfg}')
    os.makedirs(model_dir)
    with open(os.path.join(model_dir, 'plans.json'), 'w') as f:
        json.dump(plans, f, indent=4, sort_keys=False)
    with open(os.path.join(model_dir, 'dataset.json'), 'w') as f:
        json.dump(DATASET_JSON, f, indent=4, sort_keys=False)
    write_fold(model_dir, 0, network, plans, cfg, len(patch))
    x = torch.randn((1, inputs, *patch), generator=generator)
    with torch.no_grad():
        logits = network(x)
    expected = os.path.join(OUT, 'expected', f'{plans_name}__{cfg}')
    os.makedirs(expected)
    np.save(os.path.join(expected, 'input.npy'), x.numpy().astype(np.float32))
    np.save(os.path.join(expected, 'logits.npy'), logits.numpy().astype(np.float32))
    n = sum(p.numel() for p in network.parameters())
    print(f'{plans_name} {cfg}: {type(network).__name__}, {n} parameters, logits {tuple(logits.shape)}')
    case = SLIDING_WINDOW_CASES.get((plans_name, cfg))
    if case is not None:
        if case['second_fold']:
            second, _, _ = build(plans, cfg)
            perturb(second, generator)
            write_fold(model_dir, 1, second, plans, cfg, len(patch))
        sliding_window_reference(model_dir, expected, inputs, case['shape'], generator)


def main():
    torch.set_num_threads(1)
    with open(VECTORS) as f:
        reference = json.load(f)['vectors'][0]
    shutil.rmtree(OUT, ignore_errors=True)
    for i, plans_name in enumerate(PLANS):
        for j, cfg in enumerate(TINY):
            write_model(reference[plans_name], plans_name, cfg, seed=1000 + 10 * i + j)


if __name__ == '__main__':
    main()
