#!/usr/bin/env python3
"""nnU-Net v1's own code, timed for `npm run bench -- vs-nnunet` (bench/vs-nnunet.ts).

Usage: nnunet_v1_reference.py PART 'JSON ARGS'   (PART: check, train, infer, preprocess, gemm, learn)
Prints one JSON line. The TypeScript side writes the nnU-Net tree (plans .pkl, case .pkl/.npz/.npy,
splits_final.pkl) from our own planning and preprocessing, so both tools run on the same plans and arrays.
Peak memory: ru_maxrss of this process; `workerPeakRssBytes` is the largest finished child (batchgenerators'
augmentation processes, nnU-Net's preprocessing pool), which getrusage reports only once they have exited.
"""
import itertools
import json
import os
import resource
import sys
import time


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def worker_peak_rss():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def set_paths(a):
    """nnunet.paths reads these at import time: set them before importing any nnunet module."""
    for key in ("nnUNet_raw_data_base", "nnUNet_preprocessed", "RESULTS_FOLDER"):
        if a.get(key):
            os.environ[key] = a[key]
    if a.get("daProcesses"):
        os.environ["nnUNet_n_proc_DA"] = str(a["daProcesses"])


def set_threads(n):
    import torch
    torch.set_num_threads(n)
    return torch


def check(_a):
    import torch
    import nnunet  # noqa: F401 (the import is the check)
    from nnunet.training.network_training.nnUNetTrainerV2 import nnUNetTrainerV2  # noqa: F401
    from importlib.metadata import version
    return {"torch": torch.__version__, "batchgenerators": version("batchgenerators"), "nnunet": version("nnunet")}


def make_trainer(a, training):
    from nnunet.training.network_training.nnUNetTrainerV2 import nnUNetTrainerV2
    trainer = nnUNetTrainerV2(a["plansFile"], a["fold"], output_folder=a["outputDir"],
                              dataset_directory=a["datasetDir"], batch_dice=a["batchDice"], stage=a["stage"],
                              unpack_data=True, deterministic=False, fp16=False)
    trainer.initialize(training)
    return trainer


def timed(fn, n):
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def train(a):
    """nnUNetTrainerV2.run_iteration with its own tr_gen (batchgenerators' MultiThreadedAugmenter), then the same
    call on one batch held fixed (the network step alone: forward, DS loss, backward, clipping, SGD)."""
    set_paths(a)
    torch = set_threads(a["threads"])
    torch.manual_seed(a.get("seed", 1))
    trainer = make_trainer(a, True)
    trainer.network.train()
    try:
        for _ in range(a["warmup"]):  # the augmenter's processes start and fill their queues
            trainer.run_iteration(trainer.tr_gen, True, False)
        per_iteration = timed(lambda: trainer.run_iteration(trainer.tr_gen, True, False), a["iterations"])
        peak = peak_rss()  # as on our side: the peak of the timed iterations
        fixed = itertools.repeat(next(trainer.tr_gen))
        trainer.run_iteration(fixed, True, False)
        per_step = timed(lambda: trainer.run_iteration(fixed, True, False), a["steps"])
    finally:
        trainer.tr_gen._finish()
        trainer.val_gen._finish()
    return {"secondsPerIteration": per_iteration, "secondsPerStep": per_step, "iterations": a["iterations"],
            "steps": a["steps"], "daProcesses": trainer.data_aug_params.get("num_threads"),
            "batchSize": trainer.batch_size, "patchSize": [int(x) for x in trainer.patch_size],
            "peakRssBytes": peak, "workerPeakRssBytes": worker_peak_rss()}


def infer(a):
    """predict_preprocessed_data_return_seg_and_softmax (sliding window, step 0.5, Gaussian) on preprocessed cases;
    one untimed warm-up prediction of the first case (TTA off) first."""
    set_paths(a)
    set_threads(a["threads"])
    import numpy as np
    trainer = make_trainer(a, False)
    trainer.network.eval()
    axes = trainer.data_aug_params["mirror_axes"]

    def predict(file, tta):
        data = np.load(file)[:-1]  # the last channel is the segmentation
        trainer.predict_preprocessed_data_return_seg_and_softmax(
            data, do_mirroring=tta, mirror_axes=axes, use_sliding_window=True, step_size=0.5, use_gaussian=True,
            all_in_gpu=False, verbose=False, mixed_precision=False)

    predict(a["cases"][0], False)
    seconds = []
    for file in a["cases"]:
        t0 = time.perf_counter()
        predict(file, a["tta"])
        seconds.append(time.perf_counter() - t0)
    return {"seconds": seconds, "peakRssBytes": peak_rss()}


def preprocess(a):
    """nnUNet_plan_and_preprocess's steps: crop + DatasetAnalyzer (our fingerprint), then both v2.1 planners and
    their run_preprocessing (our planning + preprocessing of 3d_fullres and 2d), with tl = tf = processes."""
    set_paths(a)
    import shutil
    from batchgenerators.utilities.file_and_folder_operations import join, load_json, maybe_mkdir_p
    from nnunet.experiment_planning.DatasetAnalyzer import DatasetAnalyzer
    from nnunet.experiment_planning.experiment_planner_baseline_2DUNet_v21 import ExperimentPlanner2D_v21
    from nnunet.experiment_planning.experiment_planner_baseline_3DUNet_v21 import ExperimentPlanner3D_v21
    from nnunet.experiment_planning.utils import crop
    from nnunet.paths import nnUNet_cropped_data, nnUNet_raw_data, preprocessing_output_dir
    task, n = a["task"], a["processes"]
    cropped, out = join(nnUNet_cropped_data, task), join(preprocessing_output_dir, task)
    t0 = time.perf_counter()
    crop(task, False, n)
    modalities = list(load_json(join(cropped, "dataset.json"))["modality"].values())
    DatasetAnalyzer(cropped, overwrite=False, num_processes=n).analyze_dataset("CT" in modalities or "ct" in modalities)
    t1 = time.perf_counter()
    maybe_mkdir_p(out)
    shutil.copy(join(cropped, "dataset_properties.pkl"), out)
    shutil.copy(join(nnUNet_raw_data, task, "dataset.json"), out)
    planner3d = ExperimentPlanner3D_v21(cropped, out)
    planner3d.plan_experiment()
    planner3d.run_preprocessing((n, n))
    planner2d = ExperimentPlanner2D_v21(cropped, out)
    planner2d.plan_experiment()
    planner2d.run_preprocessing(n)
    t2 = time.perf_counter()
    return {"fingerprintSeconds": t1 - t0, "preprocessSeconds": t2 - t1, "peakRssBytes": peak_rss(),
            "workerPeakRssBytes": worker_peak_rss()}


def gemm(a):
    """Best-of-`repeats` n x n float32 matmul in numpy and torch: this machine's fp32 peak as BLAS reaches it."""
    import numpy as np
    torch = set_threads(a["threads"])
    n, repeats = a["n"], a["repeats"]
    x = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    tx = torch.from_numpy(x)
    out = {}
    for name, fn in (("numpy", lambda: x @ x), ("torch", lambda: torch.mm(tx, tx))):
        fn()
        best = min(timed(fn, 1) for _ in range(repeats))
        out[name] = {"seconds": best, "gflops": 2 * n ** 3 / best / 1e9}
    return out


def learn(a):
    """nnUNetTrainerV2.run_training for epochs x iterations (validation batches as our trainer scales them), then
    validate() without mirroring (step 0.5, Gaussian): the mean foreground Dice of the fold's validation cases."""
    set_paths(a)
    import random
    import numpy as np
    from batchgenerators.utilities.file_and_folder_operations import join, load_json
    torch = set_threads(a["threads"])
    random.seed(a["seed"])
    np.random.seed(a["seed"])
    torch.manual_seed(a["seed"])
    trainer = make_trainer(a, True)
    trainer.max_num_epochs = a["epochs"]
    trainer.num_batches_per_epoch = a["iterations"]
    trainer.num_val_batches_per_epoch = a["valIterations"]
    t0 = time.perf_counter()
    trainer.run_training()
    trainer.network.eval()
    trainer.validate(do_mirroring=False, use_sliding_window=True, step_size=0.5, save_softmax=False, use_gaussian=True,
                     overwrite=True, validation_folder_name="validation_raw", run_postprocessing_on_folds=False)
    seconds = time.perf_counter() - t0
    mean = load_json(join(trainer.output_folder, "validation_raw", "summary.json"))["results"]["mean"]
    dice = [mean[k]["Dice"] for k in mean if k != "0"]
    return {"meanDice": sum(dice) / len(dice), "seconds": seconds, "peakRssBytes": peak_rss()}


PARTS = {"check": check, "learn": learn, "train": train, "infer": infer, "preprocess": preprocess, "gemm": gemm}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in PARTS:
        print(f"usage: {sys.argv[0]} {'|'.join(PARTS)} 'JSON ARGS'", file=sys.stderr)
        sys.exit(2)
    args = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    result = PARTS[sys.argv[1]](args)
    sys.stdout.write(json.dumps(result) + "\n")
