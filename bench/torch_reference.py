#!/usr/bin/env python3
"""PyTorch CPU reference for `npm run bench -- backends`: the same training steps as bench/workloads.ts.

Usage: torch_reference.py WORKLOAD THREADS MIN_SECONDS MAX_STEPS
Prints one JSON line in the shape of step-runner's StepResult. Exit code 3: unknown workload
(e.g. a U-Net workload not yet mirrored here).
"""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F

LEARNING_RATE = 0.01
# Same shapes as CONV_SHAPES in bench/workloads.ts (PyTorch is channels-first).
SHAPES = {
    "conv3d": dict(batch=2, channels=16, spatial=(32, 32, 32)),
    "conv2d": dict(batch=2, channels=16, spatial=(128, 256)),
}


def conv_step(name):
    s = SHAPES[name]
    dims = len(s["spatial"])
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(s["batch"], s["channels"], *s["spatial"], generator=gen, requires_grad=True)
    w = (0.1 * torch.randn(s["channels"], s["channels"], *([3] * dims), generator=gen)).requires_grad_(True)
    conv = F.conv3d if dims == 3 else F.conv2d

    def step():
        y = conv(x, w, padding=1)
        loss = (y * y).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(LEARNING_RATE * w.grad)
        w.grad = None
        x.grad = None
        return loss.item()

    return step


# HOOK: add 'unet3d' / 'unet2d' here with the same plan as bench/workloads.ts.
WORKLOADS = {"conv3d": lambda: conv_step("conv3d"), "conv2d": lambda: conv_step("conv2d")}


def main():
    name, threads, min_seconds, max_steps = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    if name not in WORKLOADS:
        print(f"torch_reference: no workload {name!r}", file=sys.stderr)
        sys.exit(3)
    torch.set_num_threads(threads)
    step = WORKLOADS[name]()
    t = time.perf_counter()
    first_loss = step()
    first_ms = (time.perf_counter() - t) * 1000
    steps, loss = 0, float("nan")
    t = time.perf_counter()
    while steps < 1 or (steps < max_steps and time.perf_counter() - t < min_seconds):
        loss = step()
        steps += 1
    ms = (time.perf_counter() - t) * 1000 / steps
    print(json.dumps(dict(
        backend="pytorch", workload=name, detail=f"torch {torch.__version__}, {threads} threads",
        steps=steps, msPerStep=ms, firstStepMs=first_ms,
        peakRssMB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, firstLoss=first_loss, loss=loss,
    )))


if __name__ == "__main__":
    main()
