"""Writes nnU-Net v1 prediction folders (softmax .npz + .pkl + .nii.gz) and nnU-Net's own ensemble of them into
test/fixtures/nnunet-npz/ (re-runnable, deterministic), so the tests check our ensembling against nnU-Net's
without Python.

Run with Debian's python3: /usr/bin/python3 scripts/parity/make_npz_fixtures.py
Needs numpy, SimpleITK and nnU-Net v1 (pip install --break-system-packages nnunet==1.7.1 --no-deps plus
batchgenerators==0.25 SimpleITK==2.3.1 medpy==0.4.0, see make_pickle_fixtures.py). The case properties come from
nnU-Net's cropping of a NIfTI image with a zero border (so the crop box is not the whole image); each model folder
is written by nnU-Net's save_segmentation_nifti_from_softmax (what nnUNet_predict -z and validation with --npz
call), and expected/ by nnU-Net's ensembling (nnunet.inference.ensemble_predictions.merge).
"""
import os
import shutil
import tempfile

import numpy as np
import SimpleITK as sitk
from nnunet.inference.ensemble_predictions import merge
from nnunet.inference.segmentation_export import save_segmentation_nifti_from_softmax
from nnunet.preprocessing.cropping import ImageCropper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'nnunet-npz')
CASES = {'case_a': (9, 11, 13), 'case_b': (8, 12, 10)}  # z, y, x
NUM_CLASSES = 3


def write_image(path, shape, rng):
    image = np.zeros(shape, np.float32)
    image[1:-2, 2:-1, 1:-3] = rng.uniform(1, 100, size=(shape[0] - 3, shape[1] - 3, shape[2] - 4))
    itk = sitk.GetImageFromArray(image)
    itk.SetSpacing((0.8, 1.1, 2.5))
    itk.SetOrigin((-10.0, 4.5, 30.25))
    itk.SetDirection((0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0))
    sitk.WriteImage(itk, path)


def softmax(logits):
    e = np.exp(logits - logits.max(0, keepdims=True))
    return (e / e.sum(0, keepdims=True)).astype(np.float32)


def main():
    rng = np.random.RandomState(42)
    shutil.rmtree(OUT, ignore_errors=True)
    models = [os.path.join(OUT, m) for m in ('model_a', 'model_b')]
    for m in models:
        os.makedirs(m)
    tmp = os.path.join(tempfile.gettempdir(), 'nnunet-npz-fixture')  # a fixed name: it is recorded in the .pkl
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for case, shape in CASES.items():
        image = os.path.join(tmp, case + '_0000.nii.gz')
        write_image(image, shape, rng)
        data, _, props = ImageCropper.crop_from_list_of_files([image])
        cropped = data.shape[1:]
        # what preprocessing adds before prediction (no resampling: the target spacing is the original one)
        props['size_after_resampling'] = cropped
        props['spacing_after_resampling'] = np.array(props['original_spacing'])
        for m in models:
            probs = softmax(rng.normal(0, 2, size=(NUM_CLASSES,) + tuple(cropped)))
            save_segmentation_nifti_from_softmax(probs, os.path.join(m, case + '.nii.gz'), props, 1,
                                                 resampled_npz_fname=os.path.join(m, case + '.npz'), verbose=False)
    shutil.rmtree(tmp)
    merge(models, os.path.join(OUT, 'expected'), 1, override=True, postprocessing_file=None, store_npz=False)
    print('wrote', sorted(os.listdir(os.path.join(OUT, 'model_a'))), 'and expected/', sorted(os.listdir(os.path.join(OUT, 'expected'))))


if __name__ == '__main__':
    main()
