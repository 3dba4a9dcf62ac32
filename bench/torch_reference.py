#!/usr/bin/env python3
"""PyTorch CPU reference for `npm run bench -- backends`: the same training steps as bench/workloads.ts.

Usage: torch_reference.py WORKLOAD THREADS MIN_SECONDS MAX_STEPS [PLANS_JSON]
(PLANS_JSON: bench/demo-plan.ts's file, needed by the unet3d / unet2d workloads)
Prints one JSON line in the shape of step-runner's StepResult. Exit code 3: unknown workload.
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


# ---- nnU-Net iterations: Generic_UNet (nnU-Net v1, as nnUNetTrainerV2 builds it) and its training step ----
LEAKY_SLOPE = 0.01
NORM_EPS = 1e-5
BASE_FEATURES = 32
MAX_FEATURES = {2: 480, 3: 320}


class ConvNormLrelu(torch.nn.Module):
    """ConvDropoutNormNonlin: conv (+bias) -> InstanceNorm (affine, eps 1e-5) -> LeakyReLU(0.01)."""

    def __init__(self, dims, cin, cout, kernel, stride):
        super().__init__()
        conv = torch.nn.Conv3d if dims == 3 else torch.nn.Conv2d
        norm = torch.nn.InstanceNorm3d if dims == 3 else torch.nn.InstanceNorm2d
        self.conv = conv(cin, cout, kernel, stride, padding=[1 if k == 3 else 0 for k in kernel], bias=True)
        self.instnorm = norm(cout, eps=NORM_EPS, affine=True)
        self.lrelu = torch.nn.LeakyReLU(LEAKY_SLOPE, inplace=True)

    def forward(self, x):
        return self.lrelu(self.instnorm(self.conv(x)))


class GenericUNet(torch.nn.Module):
    """Same topology as activities/network/architecture.ts describeUNet (and nnU-Net's Generic_UNet)."""

    def __init__(self, stage):
        super().__init__()
        pools, kernels = stage["poolOpKernelSizes"], stage["convKernelSizes"]
        dims = len(kernels[0])
        ones = [1] * dims
        num_pool = len(pools)
        self.context, feats = torch.nn.ModuleList(), []
        cin, cout = stage["inChannels"], BASE_FEATURES
        for d in range(num_pool):
            stride = ones if d == 0 else pools[d - 1]
            self.context.append(torch.nn.Sequential(
                ConvNormLrelu(dims, cin, cout, kernels[d], stride), ConvNormLrelu(dims, cout, cout, kernels[d], ones)))
            feats.append(cout)
            cin, cout = cout, min(round(cout * 2), MAX_FEATURES[dims])
        self.bottleneck = torch.nn.Sequential(
            ConvNormLrelu(dims, cin, cout, kernels[num_pool], pools[-1]), ConvNormLrelu(dims, cout, cout, kernels[num_pool], ones))
        tconv = torch.nn.ConvTranspose3d if dims == 3 else torch.nn.ConvTranspose2d
        head = torch.nn.Conv3d if dims == 3 else torch.nn.Conv2d
        self.tu, self.localization, self.seg_outputs = torch.nn.ModuleList(), torch.nn.ModuleList(), torch.nn.ModuleList()
        down = cout
        for u in range(num_pool):
            skip = feats[num_pool - 1 - u]
            kernel = kernels[num_pool - u]
            self.tu.append(tconv(down, skip, pools[num_pool - 1 - u], pools[num_pool - 1 - u], bias=False))
            self.localization.append(torch.nn.Sequential(
                ConvNormLrelu(dims, 2 * skip, skip, kernel, ones), ConvNormLrelu(dims, skip, skip, kernel, ones)))
            self.seg_outputs.append(head(skip, stage["numClasses"], [1] * dims, 1, 0, bias=False))
            down = skip
        # InitWeights_He(1e-2)
        for m in self.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d)):
                torch.nn.init.kaiming_normal_(m.weight, a=1e-2)
                if m.bias is not None:
                    torch.nn.init.constant_(m.bias, 0)

    def forward(self, x):
        skips = []
        for stage in self.context:
            x = stage(x)
            skips.append(x)
        x = self.bottleneck(x)
        outputs = []
        for u in range(len(self.tu)):
            x = torch.cat((self.tu[u](x), skips[-(u + 1)]), dim=1)
            x = self.localization[u](x)
            outputs.append(self.seg_outputs[u](x))
        return outputs[::-1]  # highest resolution first, as Generic_UNet's deep-supervision tuple


def dice_ce(logits, target, batch_dice, smooth=1e-5):
    """DC_and_CE_loss (weights 1, 1): CE + SoftDiceLoss(softmax, batch_dice, do_bg=False, smooth)."""
    ce = F.cross_entropy(logits, target)
    p = torch.softmax(logits, 1)
    y = F.one_hot(target, logits.shape[1]).movedim(-1, 1).to(p.dtype)
    axes = [0] + list(range(2, logits.dim())) if batch_dice else list(range(2, logits.dim()))
    tp = (p * y).sum(axes)
    fp = (p * (1 - y)).sum(axes)
    fn = ((1 - p) * y).sum(axes)
    dc = (2 * tp + smooth) / (2 * tp + fp + fn + smooth + 1e-8)
    dc = dc[1:] if batch_dice else dc[:, 1:]
    return ce - dc.mean()


def unet_step(name, plans_file):
    with open(plans_file) as f:
        stage = json.load(f)[name]
    torch.manual_seed(12345)
    net = GenericUNet(stage)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.99, nesterov=True, weight_decay=3e-5)
    gen = torch.Generator().manual_seed(7)
    b, patch = stage["batchSize"], stage["patchSize"]
    x = torch.rand(b, stage["inChannels"], *patch, generator=gen) * 2 - 1
    with torch.no_grad():
        shapes = [o.shape[2:] for o in net(x[:1])]
    targets = [torch.randint(0, stage["numClasses"], (b, *s), generator=gen) for s in shapes]
    # MultipleOutputLoss2 weights: 2^-i, the lowest resolution 0, normalised.
    w = [0.0 if i == len(shapes) - 1 else 1 / 2 ** i for i in range(len(shapes))]
    weights = [v / sum(w) for v in w]

    def step():
        opt.zero_grad(set_to_none=True)
        outputs = net(x)
        loss = sum(wi * dice_ce(o, t, stage["batchDice"]) for wi, o, t in zip(weights, outputs, targets) if wi != 0)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 12)
        opt.step()
        return loss.item()

    return step


WORKLOADS = {
    "conv3d": lambda plans: conv_step("conv3d"),
    "conv2d": lambda plans: conv_step("conv2d"),
    # plans: the JSON file written by bench/demo-plan.ts (the demo task's 3d_fullres and 2d stages).
    "unet3d": lambda plans: unet_step("unet3d", plans),
    "unet2d": lambda plans: unet_step("unet2d", plans),
}


def main():
    name, threads, min_seconds, max_steps = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    if name not in WORKLOADS:
        print(f"torch_reference: no workload {name!r}", file=sys.stderr)
        sys.exit(3)
    torch.set_num_threads(threads)
    step = WORKLOADS[name](sys.argv[5] if len(sys.argv) > 5 else None)
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
