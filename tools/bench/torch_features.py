#!/usr/bin/env python3
"""PyTorch CPU reference for the frozen-feature rows of leukolab's speed harness (`./leukolab bench --backbones`):
torchvision's version of a library backbone without its top, in inference mode (eval, no autograd), a batch of
`batch` random images of `size` x `size`, timed as org.leukolab.bench.BackboneSpeedBenchmark times DL4J (one untimed
warm-up batch, then the median of `repeats` timed batches). Weights are torchvision's random initialisation: speed
does not depend on the values. Prints one JSON line; a backbone torchvision lacks (MobileNet v1, EfficientNetV2 at
these widths is present) prints {"missing": ...}.

    python tools/bench/torch_features.py backbone="MobileNetV2 (alpha 0.5)" size=96 batch=32 repeats=3 threads=2
"""
import json
import resource
import sys

import torch
import torchvision.models as tv

from torch_cnns import timed

# the names BackboneSpeedBenchmark lists, to torchvision constructors of the same architecture (features only)
BACKBONES = {
    "VGG16": lambda: tv.vgg16().features,
    "ResNet50": lambda: torch.nn.Sequential(*list(tv.resnet50().children())[:-2]),
    "DenseNet121": lambda: tv.densenet121().features,
    "InceptionV3": lambda: torch.nn.Sequential(*list(tv.inception_v3(aux_logits=False, init_weights=False).children())[:-3]),
    "MobileNetV3Large": lambda: tv.mobilenet_v3_large().features,
    "EfficientNetB0": lambda: tv.efficientnet_b0().features,
    "EfficientNetV2S": lambda: tv.efficientnet_v2_s().features,
    "EfficientNetV2M": lambda: tv.efficientnet_v2_m().features,
    "EfficientNetV2L": lambda: tv.efficientnet_v2_l().features,
    "MobileNetV2 (alpha 1.0)": lambda: tv.mobilenet_v2(width_mult=1.0).features,
    "MobileNetV2 (alpha 0.5)": lambda: tv.mobilenet_v2(width_mult=0.5).features,
    "MobileNetV2 (alpha 0.35)": lambda: tv.mobilenet_v2(width_mult=0.35).features,
    "SqueezeNet 1.1": lambda: tv.squeezenet1_1().features,
}


def main(argv):
    a = dict(x.split("=", 1) for x in argv)
    name = a.get("backbone", "MobileNetV2 (alpha 0.5)")
    size, batch, repeats = int(a.get("size", 96)), int(a.get("batch", 32)), int(a.get("repeats", 3))
    threads = int(a.get("threads", 0)) or torch.get_num_threads()
    if name not in BACKBONES:
        print(json.dumps({"framework": "pytorch", "backbone": name, "missing": "torchvision has no such backbone"}))
        return
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    net = BACKBONES[name]().eval()
    x = torch.rand(batch, 3, size, size)

    def forward():
        with torch.inference_mode():
            net(x).mean(dim=(2, 3))   # the pooled features leukolab caches

    median, fastest = timed(forward, 1, repeats)
    print(json.dumps({
        "framework": "pytorch", "version": torch.__version__, "backbone": name, "size": size, "batch": batch,
        "repeats": repeats, "threads": threads, "batch_s": round(median, 4), "img_s": round(batch / median, 2),
        "parameters": sum(p.numel() for p in net.parameters()),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
