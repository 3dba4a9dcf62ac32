"""
Runs nnU-Net v2's own fingerprint extractor, ExperimentPlanner and DefaultPreprocessor on the real data in
../shared/realdata (Task04_Hippocampus, SCT_errsm30) and writes small fixtures to test/fixtures/v2-preprocess/:
per dataset `fingerprint.json` (nnunetv2's dataset_fingerprint.json), `plans.json` (nnunetv2's nnUNetPlans.json) and
`cases.json` (per configuration/variant and case: crop box, shapes, class-location hashes and counts, seg hash, and
per channel float64 statistics plus sampled voxels of the preprocessed data). test/preprocessing/v2-parity.test.ts
compares ours to them.

Needs: /usr/bin/python3 with numpy, scipy, skimage, torch, SimpleITK, pandas, and
  pip install --no-deps --break-system-packages nnunetv2 acvl-utils batchgenerators dynamic-network-architectures
blosc2 (a compiled package) is replaced by a stub: only the .b2nd writer needs it, and the fixtures use run_case.

Usage: /usr/bin/python3 scripts/parity/v2_fingerprint_preprocess.py [--shared ../shared] [--dump DIR]
  --dump DIR also writes every preprocessed array as DIR/<dataset>/<config>/<variant>/<case>_{data,seg}.npy for a
  full comparison (not committed).
"""
import argparse
import copy
import hashlib
import json
import os
import shutil
import sys
import tempfile
import types


BLOSC2_STUB = """
class _AnyMeta(type):
    def __getattr__(cls, name):
        return cls


class _Any(metaclass=_AnyMeta):
    pass


def __getattr__(name):
    return _Any
"""


def stub_blosc2(folder):
    """acvl_utils and nnunetv2 import blosc2 for the .b2nd format only; nothing here writes it. The stub is a module
    on PYTHONPATH so that nnunetv2's spawned worker processes find it too."""
    os.makedirs(os.path.join(folder, 'blosc2'), exist_ok=True)
    with open(os.path.join(folder, 'blosc2', '__init__.py'), 'w') as f:
        f.write(BLOSC2_STUB)
    sys.path.insert(0, folder)
    os.environ['PYTHONPATH'] = folder + os.pathsep + os.environ.get('PYTHONPATH', '')


HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, 'test', 'fixtures', 'v2-preprocess')
SAMPLED_VOXELS = 64
SMALL_BUDGET = 1e5


def link_dataset(src, dst, labels, cases, channel='MRI'):
    """A v2 Dataset folder (imagesTr/<case>_0000.nii.gz, labelsTr/<case>.nii.gz) holding copies of src's pairs."""
    for sub in ('imagesTr', 'labelsTr'):
        os.makedirs(os.path.join(dst, sub), exist_ok=True)
    for c in cases:
        shutil.copy(os.path.join(src, 'imagesTr', c + '.nii.gz'), os.path.join(dst, 'imagesTr', c + '_0000.nii.gz'))
        shutil.copy(os.path.join(src, 'labelsTr', c + '.nii.gz'), os.path.join(dst, 'labelsTr', c + '.nii.gz'))
    dj = {'channel_names': {'0': channel}, 'labels': labels, 'numTraining': len(cases), 'file_ending': '.nii.gz',
          'name': os.path.basename(dst)}
    with open(os.path.join(dst, 'dataset.json'), 'w') as f:
        json.dump(dj, f, indent=1)
    return dj


def coords_hash(locs):
    """sha256 of 'z,y,x;z,y,x;...' (the leading channel coordinate dropped), as the test computes it."""
    text = ';'.join(','.join(str(int(v)) for v in row[1:]) for row in locs)
    return hashlib.sha256(text.encode()).hexdigest()


def channel_stats(x):
    import numpy as np
    flat = x.ravel()
    idx = np.linspace(0, flat.size - 1, min(SAMPLED_VOXELS, flat.size)).round().astype(np.int64)
    x64 = flat.astype(np.float64)
    return {'sum': float(x64.sum()), 'abs_sum': float(np.abs(x64).sum()), 'min': float(x64.min()),
            'max': float(x64.max()), 'sampled_index': idx.tolist(), 'sampled': [float(v) for v in flat[idx]]}


def case_record(data, seg, props):
    import numpy as np
    seg_i = seg.astype(np.int64).ravel()
    values, counts = np.unique(seg_i, return_counts=True)
    locs = {}
    for k, v in props.get('class_locations', {}).items():
        key = ','.join(str(i) for i in k) if isinstance(k, tuple) else str(k)
        v = np.asarray(v)
        locs[key] = {'count': int(len(v)), 'sha256': coords_hash(v), 'first': [list(map(int, r[1:])) for r in v[:3]]}
    return {
        'bbox_used_for_cropping': [[int(a), int(b)] for a, b in props['bbox_used_for_cropping']],
        'shape_before_cropping': [int(i) for i in props['shape_before_cropping']],
        'shape_after_cropping_and_before_resampling': [int(i) for i in props['shape_after_cropping_and_before_resampling']],
        'spacing': [float(s) for s in props['spacing']],
        'shape': [int(i) for i in data.shape[1:]],
        'seg_dtype': str(seg.dtype),
        'seg_sha256': hashlib.sha256(','.join(str(int(v)) for v in seg_i).encode()).hexdigest(),
        'seg_counts': {str(int(a)): int(b) for a, b in zip(values, counts)},
        'channels': [channel_stats(data[c]) for c in range(data.shape[0])],
        'class_locations': locs,
    }


def variants(plans, config, dataset, dj):
    """(name, plans, number of cases or None for all, dataset.json): the configuration as planned, plus on 3d_fullres
    the other normalization classes, the nonzero mask, and label sets with regions and with an ignore label (they
    change only the class locations)."""
    out = [('planned', plans, None, dj)]
    if config != '3d_fullres':
        return out

    def normalized(scheme, mask):
        p = copy.deepcopy(plans)
        p['configurations'][config]['normalization_schemes'] = [scheme]
        p['configurations'][config]['use_mask_for_norm'] = [mask]
        return p

    if dataset.startswith('Dataset004'):
        for name, scheme, mask in (('ct', 'CTNormalization', False), ('zscore_mask', 'ZScoreNormalization', True),
                                   ('rescale01', 'RescaleTo01Normalization', False), ('nonorm', 'NoNormalization', False)):
            out.append((name, normalized(scheme, mask), 3, dj))
        out.append(('regions', plans, 3, dict(dj, labels={'background': 0, 'hippocampus': [1, 2], 'posterior': 2},
                                                 regions_class_order=[1, 2])))
        out.append(('ignore', plans, 3, dict(dj, labels={'background': 0, 'Anterior': 1, 'ignore': 2})))
    else:
        out.append(('zscore_mask', normalized('ZScoreNormalization', True), None, dj))
        out.append(('ct', normalized('CTNormalization', True), None, dj))
        out.append(('no_label', normalized('ZScoreNormalization', True), None, dj))  # as a test case: no seg file
    return out


def run_dataset(name, src, labels, cases, workdir, dump):
    import nnunetv2.paths as paths
    from nnunetv2.experiment_planning.dataset_fingerprint import fingerprint_extractor as fe
    from nnunetv2.experiment_planning.experiment_planners import default_experiment_planner as dep
    from nnunetv2.preprocessing.preprocessors.default_preprocessor import DefaultPreprocessor
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    raw = os.path.join(paths.nnUNet_raw, name)
    dj = link_dataset(src, raw, labels, cases)
    fingerprint = fe.DatasetFingerprintExtractor(name, num_processes=1).run()
    planner = dep.ExperimentPlanner(name)
    planner.plan_experiment()
    pre = os.path.join(paths.nnUNet_preprocessed, name)
    with open(os.path.join(pre, 'nnUNetPlans.json')) as f:
        plans = json.load(f)

    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(pre, 'dataset_fingerprint.json'), os.path.join(out, 'fingerprint.json'))
    # the same with a 10^5 sample budget: a quick check for the test suite (10^8 samples take seconds)
    small = fe.DatasetFingerprintExtractor(name, num_processes=1)
    small.num_foreground_voxels_for_intensitystats = SMALL_BUDGET
    small.run(overwrite_existing=True)
    shutil.copy(os.path.join(pre, 'dataset_fingerprint.json'), os.path.join(out, 'fingerprint-1e5.json'))
    with open(os.path.join(out, 'plans.json'), 'w') as f:
        json.dump(plans, f, indent=1)
    with open(os.path.join(out, 'dataset.json'), 'w') as f:
        json.dump(dj, f, indent=1)

    records = {}
    pp = DefaultPreprocessor(verbose=False)
    for config in ('2d', '3d_fullres', '3d_lowres'):
        if config not in plans['configurations']:
            continue
        for variant, p, limit, vdj in variants(plans, config, name, dj):
            pm = PlansManager(copy.deepcopy(p))
            cm = pm.get_configuration(config)
            key = f'{config}/{variant}'
            records[key] = {'normalization_schemes': p['configurations'][config]['normalization_schemes'],
                            'use_mask_for_norm': p['configurations'][config]['use_mask_for_norm'],
                            'labels': vdj['labels'], 'cases': {}}
            for c in sorted(cases)[:limit]:
                seg_file = None if variant == 'no_label' else os.path.join(raw, 'labelsTr', c + '.nii.gz')
                data, seg, props = pp.run_case([os.path.join(raw, 'imagesTr', c + '_0000.nii.gz')], seg_file, pm, cm, vdj)
                records[key]['cases'][c] = case_record(data, seg, props)
                if dump:
                    import numpy as np
                    d = os.path.join(dump, name, config, variant)
                    os.makedirs(d, exist_ok=True)
                    np.save(os.path.join(d, c + '_data.npy'), data.astype(np.float32))
                    np.save(os.path.join(d, c + '_seg.npy'), seg.astype(np.int16))
            print(name, key, len(records[key]['cases']), 'cases', flush=True)
    with open(os.path.join(out, 'cases.json'), 'w') as f:
        json.dump(records, f, separators=(',', ':'))  # compact: the test reads it, nobody diffs it
    print(name, 'fingerprint', json.dumps(fingerprint['foreground_intensity_properties_per_channel']), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--shared', default=os.path.join(REPO, '..', 'shared'))
    ap.add_argument('--dump', default=None)
    args = ap.parse_args()
    real = os.path.join(args.shared, 'realdata')
    hippo = os.path.join(real, 'Task04_Hippocampus')
    sct = os.path.join(real, 'SCT_errsm30')
    hippo_cases = sorted(f[:-7] for f in os.listdir(os.path.join(hippo, 'imagesTr')) if f.endswith('.nii.gz'))
    sct_cases = sorted(f[:-7] for f in os.listdir(os.path.join(sct, 'imagesTr')) if f.endswith('.nii.gz'))
    with tempfile.TemporaryDirectory() as work:
        # nnunetv2 reads its folders from the environment when first imported
        for var, sub in (('nnUNet_raw', 'raw'), ('nnUNet_preprocessed', 'preprocessed'), ('nnUNet_results', 'results')):
            os.environ[var] = os.path.join(work, sub)
        stub_blosc2(os.path.join(work, 'stubs'))
        run_dataset('Dataset004_Hippocampus', hippo, {'background': 0, 'Anterior': 1, 'Posterior': 2}, hippo_cases,
                    work, args.dump)
        run_dataset('Dataset901_SCT', sct, {'background': 0, 'cord': 1}, sct_cases, work, args.dump)


if __name__ == '__main__':
    main()
