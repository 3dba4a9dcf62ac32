"""
Writes test/fixtures/bgv2/*.json: batchgeneratorsv2's transforms (as nnunetv2 2.8.1's nnUNetTrainer builds them)
applied with fixed parameters to small seeded inputs, for activities/training/v2/augmentation/ to match.
Each transform is called through its deterministic part (`_apply_to_image` / `_apply_to_segmentation` with given
parameters); SpatialTransform gets constant callables for its angles and scale, so its own get_parameters builds
the grid without random draws. Arrays are stored as base64 little-endian float32 / int16 with their shape.

Run: /usr/bin/python3 scripts/parity/make_bgv2_fixtures.py   (torch, batchgeneratorsv2; writes about 250 KB)
"""
import base64
import json
import os
from copy import deepcopy

import numpy as np
import torch
import batchgeneratorsv2
from batchgeneratorsv2.transforms.spatial.spatial import SpatialTransform
from batchgeneratorsv2.transforms.noise.gaussian_blur import GaussianBlurTransform
from batchgeneratorsv2.transforms.intensity.brightness import MultiplicativeBrightnessTransform
from batchgeneratorsv2.transforms.intensity.contrast import ContrastTransform
from batchgeneratorsv2.transforms.intensity.gamma import GammaTransform
from batchgeneratorsv2.transforms.spatial.low_resolution import SimulateLowResolutionTransform
from batchgeneratorsv2.transforms.utils.deep_supervision_downsampling import DownsampleSegForDSTransform
from batchgeneratorsv2.transforms.utils.seg_to_regions import ConvertSegmentationToRegionsTransform
from batchgeneratorsv2.transforms.utils.pseudo2d import Convert3DTo2DTransform, Convert2DTo3DTransform

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'bgv2')
torch.set_num_threads(1)


def arr(t):
    a = t.numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    if a.dtype == np.bool_ or np.issubdtype(a.dtype, np.integer):
        a = a.astype('<i2')
        kind = 'int16'
    else:
        a = a.astype('<f4')
        kind = 'float32'
    return {'shape': list(a.shape), 'dtype': kind, 'b64': base64.b64encode(a.tobytes()).decode()}


def write(name, obj):
    os.makedirs(OUT, exist_ok=True)
    obj['generator'] = f'scripts/parity/make_bgv2_fixtures.py, batchgeneratorsv2 {batchgeneratorsv2_version()}'
    with open(os.path.join(OUT, name + '.json'), 'w') as f:
        json.dump(obj, f)


def batchgeneratorsv2_version():
    from importlib.metadata import version
    return version('batchgeneratorsv2')


def image(rs, shape):
    return torch.from_numpy(rs.standard_normal(shape).astype(np.float32) * 2 + 1)


def segmentation(rs, shape, labels=(0, 1, 2)):
    """Blocky labels (so interpolation has regions and borders) plus a -1 slab (the loader's padding)."""
    coarse = rs.choice(labels, size=[max(1, s // 3) for s in shape[1:]])
    seg = coarse
    for ax in range(seg.ndim):
        seg = np.repeat(seg, 3, axis=ax)
    seg = seg[tuple(slice(0, s) for s in shape[1:])]
    pad = [(0, s - c) for s, c in zip(shape[1:], seg.shape)]
    seg = np.pad(seg, pad, mode='edge')[None]
    seg = seg.astype(np.int16)
    seg[:, -2:] = -1
    return torch.from_numpy(seg)


def cascade_segmentation(rs, shape, labels=(0, 1, 2)):
    """The cascade loader's 2 seg channels: the target and the previous stage's seg (both padded with -1)."""
    target = segmentation(rs, (1, *shape), labels)
    prev = segmentation(rs, (1, *shape), labels)
    prev[:, :, :1] = -1
    return torch.cat((target, prev))


def spatial_case(name, rs, shape, patch, angles, scale, labels=(0, 1, 2), rotate=True, cascade=False):
    img = image(rs, shape)
    seg = cascade_segmentation(rs, shape[1:], labels) if cascade else segmentation(rs, (1, *shape[1:]), labels)
    dim = len(patch)
    st = SpatialTransform(
        patch, patch_center_dist_from_border=0, random_crop=False, p_elastic_deform=0,
        p_rotation=1 if rotate else 0, rotation=lambda image, dim: angles[dim],
        p_scaling=1 if scale is not None else 0, scaling=scale if scale is not None else 1,
        p_synchronize_scaling_across_axes=1, bg_style_seg_sampling=False,
        border_mode_seg='constant', padding_value_seg=-1,
    )
    params = st.get_parameters(image=img, segmentation=seg)
    out_img = st._apply_to_image(deepcopy(img), **params)
    out_seg = st._apply_to_segmentation(deepcopy(seg), **params)
    return {
        'name': name, 'patch': list(patch), 'angles': [float(a) for a in angles[:dim]] if rotate else None,
        'scale': scale, 'image': arr(img), 'seg': arr(seg), 'outImage': arr(out_img), 'outSeg': arr(out_seg),
    }


def spatial_fixtures(rs):
    cases = [
        spatial_case('3d rotation and scaling inside', rs, (2, 12, 14, 10), (8, 9, 6), [0.3, -0.2, 0.5], 0.85),
        spatial_case('3d reaching outside (pad label -1)', rs, (2, 12, 14, 10), (10, 12, 8), [0.6, 0.4, -0.7], 1.3),
        spatial_case('3d scaling only', rs, (1, 11, 13, 9), (7, 8, 6), [0, 0, 0], 1.21, rotate=False),
        spatial_case('3d centre crop (no grid)', rs, (2, 11, 14, 9), (6, 9, 4), [0, 0, 0], None, rotate=False),
        spatial_case('2d rotation and scaling', rs, (2, 14, 12), (9, 8), [0.0, 0.7], 0.9),
        spatial_case('2d ties (scale 0.5, two labels)', rs, (1, 12, 12), (8, 8), [0.0, 0.0], 0.5, labels=(0, 3)),
        spatial_case('2d many labels reaching outside', rs, (1, 13, 12), (12, 11), [0.0, -1.1], 1.2, labels=(0, 1, 2, 3, 5)),
    ]
    cases.append(dummy_2d_case('dummy 2d', rs, lambda: segmentation(rs, (1, 4, 14, 12))))
    # the cascade's 2 seg channels (own generator, so the cases above stay as they were)
    rc = np.random.RandomState(4321)
    cases += [
        spatial_case('cascade 3d rotation and scaling reaching outside', rc, (1, 12, 14, 10), (10, 12, 8), [0.5, -0.3, 0.6], 1.25, cascade=True),
        spatial_case('cascade 3d scaling inside', rc, (1, 12, 14, 10), (7, 8, 6), [0.2, 0.1, -0.4], 0.8, cascade=True),
        spatial_case('cascade 3d centre crop (no grid)', rc, (1, 11, 14, 9), (6, 9, 4), [0, 0, 0], None, rotate=False, cascade=True),
        dummy_2d_case('cascade dummy 2d', rc, lambda: cascade_segmentation(rc, (4, 14, 12))),
    ]
    write('spatial', {'cases': cases})


def dummy_2d_case(name, rs, make_seg):
    """Dummy 2D: the first axis folded into channels around a 2D SpatialTransform."""
    img = image(rs, (2, 4, 14, 12))
    seg = make_seg()
    st = SpatialTransform((9, 8), 0, False, p_rotation=1, rotation=lambda image, dim: [0.0, 0.9][dim], p_scaling=1,
                          scaling=1.1, p_synchronize_scaling_across_axes=1, bg_style_seg_sampling=False,
                          border_mode_seg='constant', padding_value_seg=-1)
    dd = {'image': deepcopy(img), 'segmentation': deepcopy(seg)}
    dd = Convert3DTo2DTransform()(**dd)
    dd = st(**dd)
    dd = Convert2DTo3DTransform()(**dd)
    return {'name': name, 'patch': [4, 9, 8], 'angles': [0.0, 0.9], 'scale': 1.1, 'dummy2D': True,
            'image': arr(img), 'seg': arr(seg), 'outImage': arr(dd['image']), 'outSeg': arr(dd['segmentation'])}


def intensity_fixtures(rs):
    cases = []
    for shape in [(2, 9, 11, 8), (2, 13, 10)]:
        x = image(rs, shape)
        dim = len(shape) - 1
        # blur: channel 0 with a sigma per axis, channel 1 untouched; one channel at sigma 1 (7-tap kernel)
        sig = [0.6, 0.93, 0.75][:dim]
        bt = GaussianBlurTransform((0.5, 1.0), synchronize_channels=False, synchronize_axes=False, p_per_channel=0.5)
        out = bt._apply_to_image(deepcopy(x), apply_to_channel=torch.tensor([True, False]), sigmas=[sig])
        cases.append({'name': f'blur {dim}d', 'transform': 'blur', 'params': {'channels': [0], 'sigmas': [sig]},
                      'input': arr(x), 'output': arr(out)})
        out = bt._apply_to_image(deepcopy(x), apply_to_channel=torch.tensor([True, True]), sigmas=[[1.0] * dim, [0.5] * dim])
        cases.append({'name': f'blur {dim}d sigma 1 and 0.5', 'transform': 'blur',
                      'params': {'channels': [0, 1], 'sigmas': [[1.0] * dim, [0.5] * dim]}, 'input': arr(x), 'output': arr(out)})
        mb = MultiplicativeBrightnessTransform((0.75, 1.25), False, 1)
        out = mb._apply_to_image(deepcopy(x), apply_to_channel=torch.tensor([0, 1]), multipliers=torch.Tensor([0.8, 1.17]))
        cases.append({'name': f'brightness {dim}d', 'transform': 'brightness', 'params': {'channels': [0, 1], 'multipliers': [0.8, 1.17]},
                      'input': arr(x), 'output': arr(out)})
        ct = ContrastTransform((0.75, 1.25), preserve_range=True, synchronize_channels=False, p_per_channel=1)
        out = ct._apply_to_image(deepcopy(x), apply_to_channel=torch.tensor([0, 1]), multipliers=torch.tensor([0.78, 1.22]))
        cases.append({'name': f'contrast {dim}d', 'transform': 'contrast', 'params': {'channels': [0, 1], 'multipliers': [0.78, 1.22]},
                      'input': arr(x), 'output': arr(out)})
        for inv in (True, False):
            gt = GammaTransform((0.7, 1.5), p_invert_image=1 if inv else 0, synchronize_channels=False, p_per_channel=1,
                                p_retain_stats=1)
            out = gt._apply_to_image(deepcopy(x), apply_to_channel=torch.tensor([0, 1]), retain_stats=torch.tensor([True, True]),
                                     invert_image=torch.tensor([inv, inv]), gamma=torch.tensor([0.83, 1.31]))
            cases.append({'name': f'gamma {dim}d invert {inv}', 'transform': 'gamma',
                          'params': {'channels': [0, 1], 'gammas': [0.83, 1.31], 'invert': inv},
                          'input': arr(x), 'output': arr(out)})
        lr = SimulateLowResolutionTransform((0.5, 1), False, True, None, None, 0.5)
        scales = [[0.61] * dim, [1.0] + [0.72] * (dim - 1)]
        out = lr._apply_to_image(deepcopy(x), apply_to_channel=torch.tensor([0, 1]), scales=torch.Tensor(scales))
        cases.append({'name': f'low resolution {dim}d', 'transform': 'lowres', 'params': {'channels': [0, 1], 'scales': scales},
                      'input': arr(x), 'output': arr(out)})
    write('intensity', {'cases': cases})


def target_fixtures(rs):
    seg = segmentation(rs, (1, 12, 14, 10), labels=(0, 1, 2, 3))
    seg[seg < 0] = 0
    ds = DownsampleSegForDSTransform([[1, 1, 1], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [1, 0.5, 0.5], [0.3, 0.7, 0.45]])
    outs = ds._apply_to_segmentation(deepcopy(seg))
    regions = [[1, 2, 3], [2, 3], 3]
    reg = ConvertSegmentationToRegionsTransform(regions, 0)._apply_to_segmentation(deepcopy(seg))
    ds2 = DownsampleSegForDSTransform([[1, 1, 1], [0.5, 0.5, 0.5]])._apply_to_segmentation(deepcopy(reg))
    write('targets', {
        'seg': arr(seg), 'scales': ds.ds_scales, 'downsampled': [arr(o) for o in outs],
        'regions': regions, 'regionSeg': arr(reg), 'regionDownsampled': [arr(o) for o in ds2],
    })


if __name__ == '__main__':
    rs = np.random.RandomState(1234)
    spatial_fixtures(rs)
    intensity_fixtures(rs)
    target_fixtures(rs)
    print('wrote', sorted(os.listdir(OUT)))
