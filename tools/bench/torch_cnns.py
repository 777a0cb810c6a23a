#!/usr/bin/env python3
"""PyTorch CPU reference for leukolab's speed harness: the same two custom CNNs as lib's CustomCnns,
layer for layer, with the reports' optimisers, timed the same way as org.leukolab.bench.CnnBenchmark
(synthetic inputs, `warmup` untimed steps, median of `steps` timed steps). Prints one JSON line.

    python tools/bench/torch_cnns.py model=report002 size=128 batch=32 warmup=3 steps=10 threads=2
"""
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SamePad(nn.Module):
    """Keras 'same' padding for a k x k convolution with stride s (asymmetric when needed: extra on the bottom/right)."""

    def __init__(self, k, s):
        super().__init__()
        self.k, self.s = k, s

    def forward(self, x):
        h, w = x.shape[-2:]
        ph = max((-(-h // self.s) - 1) * self.s + self.k - h, 0)
        pw = max((-(-w // self.s) - 1) * self.s + self.k - w, 0)
        return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


def conv_relu_bn(cin, cout, stride):
    # Keras Conv2D(activation='relu', padding='same') then BatchNormalization(momentum=0.99, epsilon=1e-3)
    return [SamePad(3, stride), nn.Conv2d(cin, cout, 3, stride), nn.ReLU(), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)]


def report002(size, classes=4):
    layers, cin = [], 3
    for cout, pool in zip([64, 128, 256, 256, 512], [True, True, False, True, True]):
        layers += conv_relu_bn(cin, cout, 1)
        if pool:
            layers.append(nn.MaxPool2d(2))
        cin = cout
    side = size // 16
    layers += [nn.Flatten(), nn.Linear(512 * side * side, 1024), nn.ReLU(), nn.Dropout(0.5),
               nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, classes)]
    return nn.Sequential(*layers)


def report000(size, classes=5):
    layers, cin, side = [], 3, size
    for cout in [4, 8, 16, 32, 64]:
        layers += conv_relu_bn(cin, cout, 2)
        cin, side = cout, -(-side // 2)
    layers += [nn.Flatten(), nn.Linear(64 * side * side, 8), nn.ReLU(), nn.BatchNorm1d(8, eps=1e-3, momentum=0.01),
               nn.Linear(8, classes)]
    return nn.Sequential(*layers)


def timed(fn, warmup, steps):
    """Seconds per step: (median, fastest) of `steps` timed calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out), min(out)


def main(argv):
    a = dict(x.split("=", 1) for x in argv)
    model = a.get("model", "report002")
    size = int(a.get("size", 350 if model == "report000" else 128))
    batch = int(a.get("batch", 32))
    warmup, steps = int(a.get("warmup", 3)), int(a.get("steps", 10))
    threads = int(a.get("threads", 0)) or torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    if model == "report002":
        net, classes = report002(size), 4
        opt = torch.optim.SGD(net.parameters(), lr=1e-3)
    elif model == "report000":
        net, classes = report000(size), 5
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.004, eps=1e-7)
    else:
        sys.exit(f"model must be report002 or report000, got {model}")
    x = torch.rand(batch, 3, size, size)
    y = torch.arange(batch) % classes
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        net.train()
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        opt.step()

    def infer_step():
        net.eval()
        with torch.no_grad():
            net(x)

    train, fastest = timed(train_step, warmup, steps)
    infer, _ = timed(infer_step, warmup, steps)
    print(json.dumps({
        "framework": "pytorch", "version": torch.__version__, "model": model, "size": size, "batch": batch,
        "format": "NCHW", "warmup": warmup, "steps": steps, "threads": threads,
        "train_step_s": round(train, 4), "train_img_s": round(batch / train, 2),
        "train_fastest_img_s": round(batch / fastest, 2),
        "infer_step_s": round(infer, 4), "infer_img_s": round(batch / infer, 2),
        "params": sum(p.numel() for p in net.parameters()) + sum(b.numel() for n, b in net.named_buffers() if "running" in n),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
