"""Tiny image files in every non-NIfTI format nnunet-ts reads, written by SimpleITK, tifffile and skimage (the
libraries nnU-Net v2's readers use), plus expected.json: what those libraries read back from each file (SimpleITK's
spacing/origin/direction, the voxels in nnU-Net's array order), so test/io/image-formats.test.ts needs no Python.

Re-run: /usr/bin/python3 scripts/parity/make_image_formats.py  (writes test/fixtures/image-formats/)
"""
import json
import os
import sys

import numpy as np
import SimpleITK as sitk
import tifffile
from skimage import io

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'image-formats')


def rotation(axis, angle):
    t = sitk.VersorRigid3DTransform()
    t.SetRotation(axis, angle)
    return tuple(t.GetMatrix())


def sitk_expected(name, read_back):
    """What SimpleITK (SimpleITKIO) reads from the file: geometry in ITK order, voxels in array order."""
    img = sitk.ReadImage(os.path.join(OUT, name))
    arr = sitk.GetArrayFromImage(img)
    d = img.GetDimension()
    entry = {'file': name, 'reader': 'SimpleITKIO', 'dimension': d, 'dtype': str(arr.dtype),
             'spacing': list(img.GetSpacing()), 'origin': list(img.GetOrigin()), 'direction': list(img.GetDirection()),
             'arrayShape': list(arr.shape), 'values': arr.ravel().tolist()}
    read_back[name] = entry


def write_sitk(name, arr, spacing, origin, direction, compress, read_back):
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    img.SetDirection(direction)
    sitk.WriteImage(img, os.path.join(OUT, name), compress)
    sitk_expected(name, read_back)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(0)
    expected = {}
    vol = rng.randint(-1000, 1000, size=(3, 4, 5)).astype(np.int16)
    oblique = rotation((0.2, 0.3, 0.9), 0.7)
    flipped = (-1.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0)  # axes swapped and flipped (non-symmetric)
    write_sitk('oblique_int16.mha', vol, (0.7, 0.8, 2.5), (-10.5, 20.25, 3.0), oblique, True, expected)
    write_sitk('flipped_int16.nrrd', vol, (1.5, 0.5, 3.0), (1.0, -2.0, 30.0), flipped, True, expected)
    write_sitk('float32.mhd', rng.rand(3, 4, 5).astype(np.float32), (1.0, 1.25, 4.0), (0.0, 0.0, 0.0), oblique, False, expected)
    write_sitk('label_uint8.gipl', rng.randint(0, 3, size=(3, 4, 5)).astype(np.uint8), (0.9, 0.9, 1.1), (5.0, 6.0, 7.0), flipped, False, expected)
    write_sitk('slice2d_uint16.mha', rng.randint(0, 60000, size=(4, 5)).astype(np.uint16), (0.3, 0.6), (5.0, 6.0), (1.0, 0.0, 0.0, 1.0), True, expected)
    # 4D: SimpleITKIO reads the fourth axis as channels.
    series = sitk.JoinSeries([sitk.GetImageFromArray(c) for c in rng.rand(2, 3, 4, 5).astype(np.float32)])
    series.SetSpacing((0.7, 0.8, 2.5, 1.0))
    series.SetOrigin((1.0, 2.0, 3.0, 0.0))
    sitk.WriteImage(series, os.path.join(OUT, 'channels4d_float32.mha'), True)
    sitk_expected('channels4d_float32.mha', expected)

    # Tiff3DIO: tifffile writes the stack; the spacing lives in <case>.json (array order z, y, x).
    # (minisblack: tifffile would store a leading axis of 3 as planar RGB.)
    stack = rng.randint(0, 255, size=(3, 4, 5)).astype(np.uint8)
    tifffile.imwrite(os.path.join(OUT, 'stack_0000.tif'), stack, photometric='minisblack')
    with open(os.path.join(OUT, 'stack.json'), 'w') as f:
        json.dump({'spacing': [2.5, 0.75, 0.5]}, f)
    back = tifffile.imread(os.path.join(OUT, 'stack_0000.tif'))
    expected['stack_0000.tif'] = {'file': 'stack_0000.tif', 'reader': 'Tiff3DIO', 'arrayShape': list(back.shape), 'dtype': str(back.dtype),
                                  'nnunetSpacing': [2.5, 0.75, 0.5], 'values': back.ravel().tolist()}

    # NaturalImage2DIO: skimage writes and reads the pictures.
    gray = rng.randint(0, 4, size=(4, 5)).astype(np.uint8)
    rgb = rng.randint(0, 255, size=(4, 5, 3)).astype(np.uint8)
    for name, pic in [('gray.png', gray), ('rgb.png', rgb), ('gray.bmp', gray), ('gray2d.tif', gray)]:
        path = os.path.join(OUT, name)
        if name.endswith('.tif'):
            tifffile.imwrite(path, pic)
        else:
            io.imsave(path, pic, check_contrast=False)
        back = io.imread(path)
        nn = back.transpose((2, 0, 1))[:, None] if back.ndim == 3 else back[None, None]
        expected[name] = {'file': name, 'reader': 'NaturalImage2DIO', 'arrayShape': list(nn.shape), 'dtype': str(back.dtype),
                          'nnunetSpacing': [999, 1, 1], 'values': nn.ravel().tolist()}

    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'made_by': f'SimpleITK {sitk.Version.VersionString()}, tifffile {tifffile.__version__}, numpy {np.__version__}',
                   'files': expected}, f, indent=1)
    print(f'wrote {len(expected)} fixtures to {os.path.normpath(OUT)}', file=sys.stderr)


if __name__ == '__main__':
    main()
