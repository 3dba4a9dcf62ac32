"""Writes test/fixtures/nnunet-planner-v22.json: nnU-Net v1's ExperimentPlanner3D_v22 plans for the 16 reference
fingerprints of test/fixtures/vectors/planner_nnunet_v1.json plus two anisotropic fingerprints whose 10th-percentile
spacing falls below 3x the in-plane spacing (where v2.2's target spacing rule differs from v2.1's).

Run with Debian's python3: /usr/bin/python3 scripts/parity/make_v22_planner_fixture.py
Needs numpy and nnU-Net v1 (pip install --break-system-packages nnunet==1.7.1 --no-deps, see
make_pickle_fixtures.py). Deterministic: the synthetic fingerprints come from a fixed seed.
"""
import json
import os
import pickle
import tempfile

import numpy as np
from nnunet.experiment_planning.alternative_experiment_planning.experiment_planner_baseline_3DUNet_v22 import \
    ExperimentPlanner3D_v22

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
VECTORS = os.path.join(ROOT, 'test', 'fixtures', 'vectors', 'planner_nnunet_v1.json')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'nnunet-planner-v22.json')
STAGE_FIELDS = ['batch_size', 'num_pool_per_axis', 'patch_size', 'median_patient_size_in_voxels', 'current_spacing',
                'original_spacing', 'do_dummy_2D_data_aug', 'pool_op_kernel_sizes', 'conv_kernel_sizes']


def anisotropic_fingerprint(seed, n, thick, fine):
    """Thick slices (a few cases much finer) so the 10th percentile is below 3x the in-plane spacing."""
    rng = np.random.RandomState(seed)
    spacings, sizes = [], []
    for c in range(n):
        z = fine if c < n // 5 + 1 else thick
        spacings.append([z, 0.7 + 0.05 * rng.rand(), 0.7 + 0.05 * rng.rand()])
        sizes.append([int(rng.randint(18, 30)), int(rng.randint(300, 340)), int(rng.randint(300, 340))])
    return {'all_spacings': spacings, 'all_sizes': sizes, 'modalities': {'0': 'MRI'}, 'all_classes': [1, 2],
            'size_reductions': {'case_%03d' % c: 1.0 for c in range(n)}}


def to_json(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def plan_v22(fingerprint):
    props = dict(fingerprint)
    props['all_spacings'] = [np.array(s) for s in fingerprint['all_spacings']]
    props['all_sizes'] = [tuple(s) for s in fingerprint['all_sizes']]
    props['modalities'] = {int(k): v for k, v in fingerprint['modalities'].items()}
    with tempfile.TemporaryDirectory() as cropped, tempfile.TemporaryDirectory() as out:
        with open(os.path.join(cropped, 'dataset_properties.pkl'), 'wb') as f:
            pickle.dump(props, f)
        for case in fingerprint['size_reductions']:  # plan_experiment counts cases by their .npz and updates their .pkl
            open(os.path.join(cropped, case + '.npz'), 'wb').close()
            with open(os.path.join(cropped, case + '.pkl'), 'wb') as f:
                pickle.dump({}, f)
        planner = ExperimentPlanner3D_v22(cropped, out)
        target = planner.get_target_spacing()
        planner.plan_experiment()
        plans = planner.plans
    stages = [{f: to_json(plans['plans_per_stage'][i][f]) for f in STAGE_FIELDS} for i in range(len(plans['plans_per_stage']))]
    return {'target_spacing': to_json(target), 'transpose_forward': to_json(plans['transpose_forward']),
            'data_identifier': plans['data_identifier'], 'stages': stages}


def main():
    with open(VECTORS) as f:
        reference = json.load(f)['vectors']
    vectors = [{'kind': v['kind'], 'reference_vector': i, 'plans': plan_v22(v['fingerprint'])} for i, v in enumerate(reference)]
    for kind, fp in [('aniso_clamped', anisotropic_fingerprint(1, 20, 6.0, 1.2)),
                     ('aniso_very_thick', anisotropic_fingerprint(2, 30, 8.0, 1.5))]:
        vectors.append({'kind': kind, 'fingerprint': fp, 'plans': plan_v22(fp)})
    about = ('nnU-Net v1 (1.7.1) ExperimentPlanner3D_v22 plans for each fingerprint: the 16 of '
             'vectors/planner_nnunet_v1.json (reference_vector is the index there), then two synthetic anisotropic ones; '
             'written by '
             'scripts/parity/make_v22_planner_fixture.py')
    with open(OUT, 'w') as f:
        json.dump({'about': about, 'vectors': vectors}, f)
        f.write('\n')
    print('wrote %d vectors to %s' % (len(vectors), OUT))


if __name__ == '__main__':
    main()
