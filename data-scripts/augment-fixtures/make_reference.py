#!/usr/bin/env python3
"""Reference outputs of Keras' augmentation for leukolab's Augmenter test (report 000's balancing step).

Report 000 balanced its classes with ``ImageDataGenerator(rotation_range=15, zoom_range=0.1,
horizontal_flip=True, fill_mode='nearest')`` and wrote each augmented copy with ``array_to_img`` +
PIL JPEG (quality 75). This script applies the same transform code (``apply_affine_transform`` from
keras-preprocessing 1.1.2, the code TensorFlow 2.x's Keras shipped, bilinear, nearest fill), the same
flip and ``array_to_img`` scaling to two small real cells for fixed, known transform parameters, and
writes PNG files the Java test compares against:

    input-<n>.png               the input (a real cell image from the Raabin sample, resized to 96x96)
    draw-<n>-<k>-raw.png        the transformed image, float result rounded to 8 bits
    draw-<n>-<k>-published.png  array_to_img(scale=True) of the float result (min..max stretched, truncated)
    draw-<n>-<k>-published.jpg  that image saved by PIL as JPEG with default settings (quality 75)
    draws.json                  the parameters (theta degrees, zoom rows, zoom cols, flip)

Usage (numpy, scipy, pillow and keras-preprocessing==1.1.2 from PyPI):
    python make_reference.py <raabin-wbc-sample dir> <output dir>
"""
import json
import sys
from pathlib import Path

import numpy as np
from keras_preprocessing.image import apply_affine_transform, array_to_img, flip_axis
from PIL import Image

SOURCES = ["Train/Basophil", "Train/Neutrophil"]
DRAWS = [
    {"theta": 12.3, "zx": 0.93, "zy": 1.07, "flip": False},
    {"theta": -14.9, "zx": 1.09, "zy": 0.91, "flip": True},
    {"theta": 0.0, "zx": 1.0, "zy": 1.0, "flip": True},
    {"theta": 7.5, "zx": 1.0, "zy": 1.0, "flip": False},
]


def main(sample: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for n, rel in enumerate(SOURCES):
        first = sorted((sample / rel).iterdir())[0]
        img = Image.open(first).convert("RGB").resize((96, 96), Image.BILINEAR)
        img.save(out / f"input-{n}.png")
        x = np.asarray(img, dtype=np.float32)  # img_to_array
        for k, d in enumerate(DRAWS):
            y = apply_affine_transform(x, theta=d["theta"], zx=d["zx"], zy=d["zy"], row_axis=0, col_axis=1,
                                       channel_axis=2, fill_mode="nearest", order=1)
            if d["flip"]:
                y = flip_axis(y, 1)
            Image.fromarray(np.clip(np.rint(y), 0, 255).astype(np.uint8)).save(out / f"draw-{n}-{k}-raw.png")
            pub = array_to_img(y.copy(), scale=True)
            pub.save(out / f"draw-{n}-{k}-published.png")
            pub.save(out / f"draw-{n}-{k}-published.jpg")  # PIL defaults, as the report's .save(...jpg)
    (out / "draws.json").write_text(json.dumps(DRAWS, indent=1) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
