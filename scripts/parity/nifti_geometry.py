#!/usr/bin/env python3
"""Reference geometry of NIfTI files as SimpleITK and nibabel see them (one-off parity check, not a runtime
dependency). Usage: python3 nifti_geometry.py FILE... > out.json. Needs `pip install nibabel SimpleITK numpy`."""
import json
import sys

import nibabel as nib
import numpy as np
import SimpleITK as sitk


def describe(path):
    img = sitk.ReadImage(path)
    arr = sitk.GetArrayViewFromImage(img)
    nimg = nib.load(path)
    data = np.asanyarray(nimg.dataobj)
    return {
        "sitk": {
            "size": list(img.GetSize()),
            "spacing": list(img.GetSpacing()),
            "origin": list(img.GetOrigin()),
            "direction": list(img.GetDirection()),
            "pixel": img.GetPixelIDTypeAsString(),
            "array_shape": list(arr.shape),
            "sum": float(np.sum(arr, dtype=np.float64)),
        },
        "nibabel": {
            "shape": list(nimg.shape),
            "affine": nimg.affine.tolist(),
            "axcodes": "".join(nib.aff2axcodes(nimg.affine)),
            "sum": float(np.sum(data, dtype=np.float64)),
        },
    }


if __name__ == "__main__":
    json.dump({p: describe(p) for p in sys.argv[1:]}, sys.stdout, indent=1)
