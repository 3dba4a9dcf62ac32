"""
nnU-Net v2's fingerprint, ExperimentPlanner and DefaultPreprocessor.run_case on datasets in other image formats
than NIfTI, read by nnunetv2's own reader/writers (NaturalImage2DIO for .png, SimpleITKIO for .mha). Writes small
fixtures to test/fixtures/v2-formats/<dataset>/: the raw dataset itself (made here, tiny), `fingerprint-1e5.json`
(a 10^5 sample budget), `plans.json`, and `cases.json` (per configuration and case the same records as
v2_fingerprint_preprocess.py, plus the properties' `sitk_stuff` when the reader records one).
test/preprocessing/v2-formats-parity.test.ts compares ours to them.

Datasets: Dataset961_Png (grayscale pictures, two labels), Dataset962_Rgb (RGB pictures: three channels in one
file), Dataset963_Mha (3D .mha with anisotropic spacing, an origin and an oblique direction, a zero border),
Dataset964_Tif (3D .tif stacks read by Tiff3DIO, spacing from the sidecar <case>.json).

Needs what v2_fingerprint_preprocess.py needs (nnunetv2, SimpleITK, skimage).
Usage: /usr/bin/python3 scripts/parity/v2_formats.py
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from v2_fingerprint_preprocess import case_record, stub_blosc2  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, 'test', 'fixtures', 'v2-formats')
BUDGET = 1e5
LABELS = {'background': 0, 'organ': 1, 'lesion': 2}


def blob_case(rng, shape, border):
    """An image with a bright ellipsoid (label 1) holding a brighter core (label 2), noise, and a zero border."""
    grids = np.meshgrid(*[np.linspace(-1, 1, s) for s in shape], indexing='ij')
    centre = rng.uniform(-0.2, 0.2, len(shape))
    r = np.sqrt(sum(((g - c) / 0.6) ** 2 for g, c in zip(grids, centre)))
    seg = np.where(r < 1, 1, 0) + np.where(r < 0.45, 1, 0)
    img = 40 + 60 * (r < 1) + 50 * (r < 0.45) + rng.normal(0, 8, shape)
    img = np.clip(img, 1, 250)
    inner = tuple(slice(border, s - border) if s > 2 * border else slice(None) for s in shape)
    mask = np.zeros(shape, bool)
    mask[inner] = True
    return np.where(mask, img, 0), np.where(mask, seg, 0)


def write_json(obj, file):
    with open(file, 'w') as f:
        json.dump(obj, f, indent=1)


def make_png(dst, rng, rgb):
    from skimage import io
    for sub in ('imagesTr', 'labelsTr'):
        os.makedirs(os.path.join(dst, sub), exist_ok=True)
    cases = [f'case_{i}' for i in range(4)]
    for c in cases:
        img, seg = blob_case(rng, (20 + rng.integers(0, 5), 24), border=2)
        if rgb:
            picture = np.stack([img, img * 0.8, 255 - img * 0.5], -1).clip(0, 255).astype(np.uint8)
        else:
            picture = img.astype(np.uint8)
        io.imsave(os.path.join(dst, 'imagesTr', c + '_0000.png'), picture, check_contrast=False)
        io.imsave(os.path.join(dst, 'labelsTr', c + '.png'), seg.astype(np.uint8), check_contrast=False)
    channels = {'0': 'R', '1': 'G', '2': 'B'} if rgb else {'0': 'gray'}
    write_json({'channel_names': channels, 'labels': LABELS, 'numTraining': len(cases), 'file_ending': '.png',
                'name': os.path.basename(dst)}, os.path.join(dst, 'dataset.json'))
    return cases


def make_mha(dst, rng):
    import SimpleITK as sitk
    for sub in ('imagesTr', 'labelsTr'):
        os.makedirs(os.path.join(dst, sub), exist_ok=True)
    cases = [f'case_{i}' for i in range(3)]
    a = np.deg2rad(20)
    direction = (np.cos(a), -np.sin(a), 0, np.sin(a), np.cos(a), 0, 0, 0, 1)
    for i, c in enumerate(cases):
        img, seg = blob_case(rng, (8 + i, 14, 12), border=1)
        for arr, file, dtype in ((img, os.path.join(dst, 'imagesTr', c + '_0000.mha'), np.float32),
                                 (seg, os.path.join(dst, 'labelsTr', c + '.mha'), np.uint8)):
            im = sitk.GetImageFromArray(arr.astype(dtype))
            im.SetSpacing((0.8, 0.9 + 0.05 * i, 3.0))
            im.SetOrigin((-10.5, 4.25, 30.0 + i))
            im.SetDirection(direction)
            sitk.WriteImage(im, file)
    write_json({'channel_names': {'0': 'MRI'}, 'labels': LABELS, 'numTraining': len(cases), 'file_ending': '.mha',
                'name': os.path.basename(dst)}, os.path.join(dst, 'dataset.json'))
    return cases


def make_tif(dst, rng):
    import tifffile
    for sub in ('imagesTr', 'labelsTr'):
        os.makedirs(os.path.join(dst, sub), exist_ok=True)
    cases = [f'case_{i}' for i in range(3)]
    for i, c in enumerate(cases):
        img, seg = blob_case(rng, (6 + i, 12, 10), border=1)
        spacing = {'spacing': [2.5, 0.7 + 0.1 * i, 0.7]}
        tifffile.imwrite(os.path.join(dst, 'imagesTr', c + '_0000.tif'), img.astype(np.uint16))
        tifffile.imwrite(os.path.join(dst, 'labelsTr', c + '.tif'), seg.astype(np.uint8))
        write_json(spacing, os.path.join(dst, 'imagesTr', c + '.json'))
        write_json(spacing, os.path.join(dst, 'labelsTr', c + '.json'))
    write_json({'channel_names': {'0': 'MRI'}, 'labels': LABELS, 'numTraining': len(cases), 'file_ending': '.tif',
                'overwrite_image_reader_writer': 'Tiff3DIO', 'name': os.path.basename(dst)}, os.path.join(dst, 'dataset.json'))
    return cases


def run_dataset(name, make):
    import nnunetv2.paths as paths
    from nnunetv2.experiment_planning.dataset_fingerprint import fingerprint_extractor as fe
    from nnunetv2.experiment_planning.experiment_planners import default_experiment_planner as dep
    from nnunetv2.preprocessing.preprocessors.default_preprocessor import DefaultPreprocessor
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    out = os.path.join(OUT, name)
    shutil.rmtree(out, ignore_errors=True)
    cases = make(out)
    raw = os.path.join(paths.nnUNet_raw, name)
    shutil.copytree(out, raw)
    with open(os.path.join(raw, 'dataset.json')) as f:
        dj = json.load(f)
    extractor = fe.DatasetFingerprintExtractor(name, num_processes=1)
    extractor.num_foreground_voxels_for_intensitystats = BUDGET
    extractor.run()
    dep.ExperimentPlanner(name).plan_experiment()
    pre = os.path.join(paths.nnUNet_preprocessed, name)
    shutil.copy(os.path.join(pre, 'dataset_fingerprint.json'), os.path.join(out, 'fingerprint-1e5.json'))
    with open(os.path.join(pre, 'nnUNetPlans.json')) as f:
        plans = json.load(f)
    write_json(plans, os.path.join(out, 'plans.json'))

    ending = dj['file_ending']
    records = {}
    pp = DefaultPreprocessor(verbose=False)
    for config in plans['configurations']:
        if 'data_identifier' not in plans['configurations'][config] and 'inherits_from' in plans['configurations'][config]:
            continue
        pm = PlansManager(plans)
        cm = pm.get_configuration(config)
        records[config] = {}
        for c in cases:
            data, seg, props = pp.run_case([os.path.join(raw, 'imagesTr', c + '_0000' + ending)],
                                           os.path.join(raw, 'labelsTr', c + ending), pm, cm, dj)
            rec = case_record(data, seg, props)
            if 'sitk_stuff' in props:
                rec['sitk_stuff'] = {k: [float(v) for v in props['sitk_stuff'][k]] for k in ('spacing', 'origin', 'direction')}
            records[config][c] = rec
        print(name, config, len(cases), 'cases', flush=True)
    with open(os.path.join(out, 'cases.json'), 'w') as f:
        json.dump(records, f, separators=(',', ':'))


def main():
    rng = np.random.default_rng(961)
    with tempfile.TemporaryDirectory() as work:
        for var, sub in (('nnUNet_raw', 'raw'), ('nnUNet_preprocessed', 'preprocessed'), ('nnUNet_results', 'results')):
            os.environ[var] = os.path.join(work, sub)
        stub_blosc2(os.path.join(work, 'stubs'))
        run_dataset('Dataset961_Png', lambda d: make_png(d, rng, rgb=False))
        run_dataset('Dataset962_Rgb', lambda d: make_png(d, rng, rgb=True))
        run_dataset('Dataset963_Mha', lambda d: make_mha(d, rng))
        run_dataset('Dataset964_Tif', lambda d: make_tif(d, rng))


if __name__ == '__main__':
    main()
