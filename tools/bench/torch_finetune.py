#!/usr/bin/env python3
"""PyTorch CPU reference for the fine-tuning rows of leukolab's speed harness: torchvision's MobileNetV2 (width 0.5) or
EfficientNetB0 without its top, under report 003's head (global average pooling, Dense 128, ReLU, Dropout 0.3, Dense 8),
with the leading part of the backbone frozen and every BatchNorm layer frozen (inference mode, no gradient for its
scale and shift), Adam; timed as org.leukolab.bench.FineTuneBenchmark times DL4J (synthetic inputs, `warmup` untimed
steps, median of `steps` timed steps). Prints one JSON line.

The frozen set is matched to DL4J's by size: DL4J freezes the first share of the backbone's Keras layers; the layer lists
of the two libraries differ (Keras counts paddings, activations and additions as layers), so here the convolutions are
frozen from the input on until the trainable parameters (convolutions and head, BatchNorm excluded) come closest to
`trainable`, the count the DL4J row reports. The JSON gives the count reached.

    python tools/bench/torch_finetune.py backbone=mobilenetv2-0.5 size=96 batch=32 trainable=810632 warmup=2 steps=5 threads=2
"""
import json
import resource
import sys

import torch
import torch.nn as nn
import torchvision

from torch_cnns import timed


def backbone(name):
    if name == "mobilenetv2-0.5":
        return torchvision.models.mobilenet_v2(width_mult=0.5).features
    if name == "efficientnetb0":
        return torchvision.models.efficientnet_b0().features
    sys.exit(f"backbone must be mobilenetv2-0.5 or efficientnetb0, got {name}")


def freeze_to(features, head, trainable):
    """Freezes every BatchNorm, then convolutions from the input on while that brings the trainable count closer to
    `trainable` (0: the whole backbone). Returns the trainable parameter count reached."""
    for m in features.modules():
        if isinstance(m, nn.BatchNorm2d):
            for p in m.parameters():
                p.requires_grad_(False)
    convs = [m for m in features.modules() if isinstance(m, nn.Conv2d)]
    count = lambda: sum(p.numel() for p in list(features.parameters()) + list(head.parameters()) if p.requires_grad)
    for c in convs:
        n = sum(p.numel() for p in c.parameters())
        if trainable == 0 or abs(count() - n - trainable) <= abs(count() - trainable):
            for p in c.parameters():
                p.requires_grad_(False)
        else:
            break
    return count()


class Classifier(nn.Module):
    def __init__(self, features, channels):
        super().__init__()
        self.features = features
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 128), nn.ReLU(), nn.Dropout(0.3),
                                  nn.Linear(128, 8))

    def forward(self, x):
        return self.head(self.features(x))

    def train(self, mode=True):
        super().train(mode)
        for m in self.features.modules():   # BatchNorm frozen: inference mode always
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self


def main(argv):
    a = dict(x.split("=", 1) for x in argv)
    name = a.get("backbone", "mobilenetv2-0.5")
    size, batch = int(a.get("size", 96)), int(a.get("batch", 32))
    warmup, steps = int(a.get("warmup", 2)), int(a.get("steps", 5))
    threads = int(a.get("threads", 0)) or torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    features = backbone(name)
    net = Classifier(features, 1280)
    trainable = freeze_to(features, net.head, int(a.get("trainable", 0)))
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=1e-4, eps=1e-7)
    x = torch.rand(batch, 3, size, size) * 2 - 1
    y = torch.arange(batch) % 8
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        net.train()
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        opt.step()

    train, _ = timed(train_step, warmup, steps)
    backbone_params = sum(p.numel() for p in features.parameters()) + sum(
        b.numel() for n, b in features.named_buffers() if "running" in n)
    print(json.dumps({
        "framework": "pytorch", "version": torch.__version__, "torchvision": torchvision.__version__, "model": name,
        "size": size, "batch": batch, "warmup": warmup, "steps": steps, "threads": threads,
        "train_step_s": round(train, 4), "train_img_s": round(batch / train, 2),
        "backbone_params": backbone_params, "trainable_params": trainable,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
