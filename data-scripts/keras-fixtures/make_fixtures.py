#!/usr/bin/env python3
"""Make the Keras reference fixtures for leukolab's backbone equivalence tests.

For each architecture (VGG16, ResNet50, MobileNetV2, EfficientNetB0, MobileNet v1, SqueezeNet 1.1), with and
without the classification top, at its smallest valid input (32x32), this script builds the model with Keras Applications, gives it
random weights, saves them in Keras' HDF5 weight layout (the layout of the official weight files), and
records a random input image, Keras' `preprocess_input` of it, and the model's output (features, or logits
for the top). For MobileNetV2 alpha 0.35 it also runs the REAL official ImageNet file at 96x96 (from
--official-weights) and records only its input and output (the weight file itself is never committed).

The random weights repeat a random block of a prime length (1021 values) through each tensor, so the
files compress to a few kilobytes per tensor with HDF5's gzip filter, while any wrong axis order in a
loader still changes the numbers (1021 shares no factor with any layer dimension). Each layer is then
rescaled so its output on the test input has unit standard deviation, which keeps the comparison at a
tolerance of 1e-4 meaningful.

Run (once, outside CI; Keras comes from PyPI):
    python3 -m venv /tmp/keras-venv && /tmp/keras-venv/bin/pip install -r data-scripts/keras-fixtures/requirements.txt
    /tmp/keras-venv/bin/python data-scripts/keras-fixtures/make_fixtures.py \
        --out lib/src/test/resources/org/leukolab/models/keras --official-weights ../shared/weights
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow import keras  # noqa: E402
import keras as keras_package  # noqa: E402  (the Keras 2 package TensorFlow 2.15 runs)

KERAS_VERSION = keras_package.__version__

PERIOD = 1021
# the architectures added later repeat a shorter block (127, also prime): their hundreds of kernels would otherwise
# cost 4 kB each in the repository. Not InceptionV3: with 127, one of its 1x7 convolutions gives a constant output.
SHORT_PERIOD = 127
SHORT_PERIOD_ARCHITECTURES = {"densenet121", "mobilenetv3large", "efficientnetv2s", "efficientnetv2m", "efficientnetv2l"}
VECTOR_PERIOD = 31
FLOAT64_ARCHITECTURES = {"efficientnetv2m", "efficientnetv2l"}
SEED = 20261124
apps = keras.applications


def periodic(shape, rng, kind, kernel_period=PERIOD):
    """Random values repeating with a prime period: 1021 (or 127) for kernels, 31 for per-channel vectors."""
    n = int(np.prod(shape))
    if kind == "count":
        return np.full(shape, 1000, dtype=np.int64)
    period = kernel_period if len(shape) > 1 else VECTOR_PERIOD
    block = rng.standard_normal(min(period, max(n, 1))).astype(np.float32)
    flat = np.resize(block, n)
    if kind == "variance":
        flat = 0.5 + np.abs(flat)
    elif kind == "gamma":
        flat = 1.0 + 0.2 * flat
    elif kind in ("beta", "mean", "bias"):
        flat = 0.1 * flat
    return flat.reshape(shape).astype(np.float32)


def weight_kind(name: str) -> str:
    base = name.split("/")[-1].split(":")[0]
    return {"moving_variance": "variance", "variance": "variance", "gamma": "gamma", "beta": "beta",
            "moving_mean": "mean", "mean": "mean", "bias": "bias", "count": "count"}.get(base, "kernel")


def randomise(model, x, rng, kernel_period=PERIOD):
    """Periodic random weights, then, layer after layer, one scale and one shift per layer so that its
    output on x has mean 0 (before any activation) and standard deviation 1: no dead ReLU layers, no
    blow-up, and the periodic structure survives (a scalar scale and shift keep it)."""
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([periodic(tuple(w.shape), rng, weight_kind(w.name), kernel_period) for w in layer.weights])
    for layer in model.layers:
        kinds = [weight_kind(w.name) for w in layer.weights]
        if "kernel" not in kinds and "gamma" not in kinds:
            continue
        activation = getattr(layer, "activation", None)
        if activation is not None:
            layer.activation = keras.activations.linear
        probe = keras.Model(model.inputs, layer.output)
        y = probe(x, training=False).numpy()
        if activation is not None:
            layer.activation = activation
        mean, std = float(np.mean(y)), float(np.std(y))
        if not np.isfinite(std) or std == 0:
            raise RuntimeError(f"layer {layer.name}: output has no spread")
        new = []
        for w, kind in zip(layer.get_weights(), kinds):
            if kind in ("kernel", "gamma"):
                w = w / std
            elif kind in ("bias", "beta"):
                w = (w - mean) / std
            new.append(w.astype(np.float32))
        if "bias" not in kinds and "beta" not in kinds:
            pass  # no shift possible (conv without bias, always followed by batch normalisation)
        layer.set_weights(new)


def compress_copy(src: Path, dst: Path):
    """Rewrite an HDF5 file with every dataset gzip-compressed in contiguous row chunks; attributes kept."""
    # HDF5 1.10 format: single-chunk datasets need no chunk index (files of many small tensors halve); 1.12 still reads it (the Java side has HDF5 1.12.1)
    with h5py.File(src, "r") as fin, h5py.File(dst, "w", libver=("v110", "v112")) as fout:
        def copy_attrs(a, b):
            for k, v in a.attrs.items():
                b.attrs[k] = v

        def walk(gin, gout):
            copy_attrs(gin, gout)
            for name, item in gin.items():
                if isinstance(item, h5py.Group):
                    walk(item, gout.create_group(name))
                else:
                    data = item[()]
                    ds = write_dataset(gout, name, data)
                    copy_attrs(item, ds)
        walk(fin, fout)


def write_dataset(group, name, data):
    """A dataset in contiguous row chunks, deflated twice: a periodic tensor shrinks about 5000-fold
    (one deflate pass stops near 160-fold). Standard HDF5 filters, read back transparently."""
    data = np.asarray(data)
    if data.ndim == 0 or data.size < 64:
        return group.create_dataset(name, data=data)
    row = int(np.prod(data.shape[1:])) if data.ndim > 1 else 1
    rows = max(1, min(data.shape[0], (1 << 24) // max(row, 1)))
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((rows, *data.shape[1:]))
    dcpl.set_deflate(9)
    dcpl.set_deflate(9)
    tid = h5py.h5t.py_create(data.dtype, logical=True)
    dsid = h5py.h5d.create(group.id, name.encode(), tid, h5py.h5s.create_simple(data.shape), dcpl=dcpl)
    dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(data))
    return group[name]


def keras20_names(src: Path, dst: Path):
    """A copy of a weight file with automatic layer names counted from 1 (conv2d -> conv2d_1, conv2d_1 -> conv2d_2),
    as Keras 2.0 named them when it wrote the official InceptionV3 files, in the same layer order."""
    import re

    def shift(name):
        m = re.fullmatch(r"(conv2d|batch_normalization|dense)(?:_(\d+))?", name)
        return name if not m else f"{m.group(1)}_{int(m.group(2) or 0) + 1}"

    with h5py.File(src, "r") as fin, h5py.File(dst, "w", libver=("v110", "v112")) as fout:
        for k, v in fin.attrs.items():
            fout.attrs[k] = v
        names = [n.decode() if isinstance(n, bytes) else n for n in fin.attrs["layer_names"]]
        fout.attrs["layer_names"] = np.array([shift(n).encode() for n in names])
        for n in names:
            gin, gout = fin[n], fout.create_group(shift(n))
            weight_names = [w.decode() if isinstance(w, bytes) else w for w in gin.attrs["weight_names"]]
            gout.attrs["weight_names"] = np.array([(shift(n) + w[len(n):]).encode() for w in weight_names])
            for w in weight_names:
                parts = w.split("/")
                inner = gout.require_group(shift(parts[0]))
                for p in parts[1:-1]:
                    inner = inner.require_group(p)
                write_dataset(inner, parts[-1], fin[n][w][()])


def save_io(path: Path, raw, pre, out, meta: dict, out64=None):
    with h5py.File(path, "w", libver=("v108", "v110")) as f:
        write_dataset(f, "input_raw", raw.astype(np.float32))
        if pre is not None:
            write_dataset(f, "input_preprocessed", np.asarray(pre, dtype=np.float32))
        write_dataset(f, "output", np.asarray(out, dtype=np.float32))
        if out64 is not None:
            write_dataset(f, "output_float64", np.asarray(out64, dtype=np.float64))
        for k, v in meta.items():
            f.attrs[k] = v


def SqueezeNet(weights=None, input_shape=None, include_top=True, classes=1000, classifier_activation="softmax"):
    """SqueezeNet 1.1 as the keras-squeezenet project (github.com/rcmalli/keras-squeezenet, MIT) defines it, with its
    layer names, so its official weight files load by name. Keras Applications has no SqueezeNet."""
    L = keras.layers
    inp = keras.Input(shape=input_shape)

    def fire(x, fid, squeeze, expand):
        p = f"fire{fid}/"
        x = L.Conv2D(squeeze, (1, 1), padding="valid", name=p + "squeeze1x1")(x)
        x = L.Activation("relu", name=p + "relu_squeeze1x1")(x)
        left = L.Conv2D(expand, (1, 1), padding="valid", name=p + "expand1x1")(x)
        left = L.Activation("relu", name=p + "relu_expand1x1")(left)
        right = L.Conv2D(expand, (3, 3), padding="same", name=p + "expand3x3")(x)
        right = L.Activation("relu", name=p + "relu_expand3x3")(right)
        return L.concatenate([left, right], axis=-1, name=p + "concat")

    x = L.Conv2D(64, (3, 3), strides=(2, 2), padding="valid", name="conv1")(inp)
    x = L.Activation("relu", name="relu_conv1")(x)
    x = L.MaxPooling2D(pool_size=(3, 3), strides=(2, 2), name="pool1")(x)
    x = fire(x, 2, 16, 64)
    x = fire(x, 3, 16, 64)
    x = L.MaxPooling2D(pool_size=(3, 3), strides=(2, 2), name="pool3")(x)
    x = fire(x, 4, 32, 128)
    x = fire(x, 5, 32, 128)
    x = L.MaxPooling2D(pool_size=(3, 3), strides=(2, 2), name="pool5")(x)
    x = fire(x, 6, 48, 192)
    x = fire(x, 7, 48, 192)
    x = fire(x, 8, 64, 256)
    x = fire(x, 9, 64, 256)
    if include_top:
        x = L.Dropout(0.5, name="drop9")(x)
        x = L.Conv2D(classes, (1, 1), padding="valid", name="conv10")(x)
        x = L.Activation("relu", name="relu_conv10")(x)
        x = L.GlobalAveragePooling2D()(x)
        if classifier_activation:
            x = L.Activation(classifier_activation, name="loss")(x)
    model = keras.Model(inp, x, name="squeezenet")
    if weights is not None:
        model.load_weights(weights, by_name=True)
    return model


ARCHITECTURES = [
    # fixture name, Keras builder, its preprocess_input, extra arguments[, input size when 32 is too small]
    ("vgg16", apps.VGG16, apps.vgg16.preprocess_input, {}),
    ("resnet50", apps.ResNet50, apps.resnet50.preprocess_input, {}),
    ("mobilenetv2_1.0", apps.MobileNetV2, apps.mobilenet_v2.preprocess_input, dict(alpha=1.0)),
    ("mobilenetv2_0.35", apps.MobileNetV2, apps.mobilenet_v2.preprocess_input, dict(alpha=0.35)),
    ("efficientnetb0", apps.EfficientNetB0, apps.efficientnet.preprocess_input, {}),
    ("mobilenet_0.25", apps.MobileNet, apps.mobilenet.preprocess_input, dict(alpha=0.25)),
    ("squeezenet", SqueezeNet, apps.vgg16.preprocess_input, {}),
    ("densenet121", apps.DenseNet121, apps.densenet.preprocess_input, {}),
    ("inceptionv3", apps.InceptionV3, apps.inception_v3.preprocess_input, {}, 75),
    ("mobilenetv3large", apps.MobileNetV3Large, apps.mobilenet_v3.preprocess_input, {}),
    ("efficientnetv2s", apps.EfficientNetV2S, apps.efficientnet_v2.preprocess_input, {}),
    ("efficientnetv2m", apps.EfficientNetV2M, apps.efficientnet_v2.preprocess_input, {}),
    ("efficientnetv2l", apps.EfficientNetV2L, apps.efficientnet_v2.preprocess_input, {}),
]
# real official files checked at 96x96 (input and output recorded; the files themselves are never committed)
OFFICIAL = [
    ("mobilenetv2_0.35_notop_96_imagenet", "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5",
     lambda f: apps.MobileNetV2(alpha=0.35, include_top=False, weights=str(f), input_shape=(96, 96, 3)),
     apps.mobilenet_v2.preprocess_input, "MobileNetV2", dict(include_top=False, alpha=0.35), 100),
    ("mobilenet_0.25_notop_96_imagenet", "mobilenet_2_5_224_tf_no_top.h5",
     lambda f: apps.MobileNet(alpha=0.25, include_top=False, weights=str(f), input_shape=(96, 96, 3)),
     apps.mobilenet.preprocess_input, "MobileNet", dict(include_top=False, alpha=0.25), 101),
    ("squeezenet_notop_96_imagenet", "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5",
     lambda f: SqueezeNet(include_top=False, weights=str(f), input_shape=(96, 96, 3)),
     apps.vgg16.preprocess_input, "SqueezeNet", dict(include_top=False), 102),
]
SMALLEST = 32  # the smallest input most of them accept (InceptionV3: 75)


def write_summaries(path: Path):
    """Keras' own numbers for each backbone at 224x224: total parameters (model.count_params(), which counts
    BatchNorm statistics too) with and without the top, and the shape of the last feature map."""
    out = {}
    for label, build, kw in [("VGG16", apps.VGG16, {}), ("ResNet50", apps.ResNet50, {}),
                             ("MobileNetV2 (alpha 1.0)", apps.MobileNetV2, dict(alpha=1.0)),
                             ("MobileNetV2 (alpha 0.5)", apps.MobileNetV2, dict(alpha=0.5)),
                             ("MobileNetV2 (alpha 0.35)", apps.MobileNetV2, dict(alpha=0.35)),
                             ("EfficientNetB0", apps.EfficientNetB0, {}),
                             ("MobileNet (alpha 0.25)", apps.MobileNet, dict(alpha=0.25)),
                             ("SqueezeNet 1.1", SqueezeNet, {}),
                             ("DenseNet121", apps.DenseNet121, {}), ("InceptionV3", apps.InceptionV3, {}),
                             ("MobileNetV3Large", apps.MobileNetV3Large, {}), ("EfficientNetV2S", apps.EfficientNetV2S, {}),
                             ("EfficientNetV2M", apps.EfficientNetV2M, {}), ("EfficientNetV2L", apps.EfficientNetV2L, {})]:
        keras.backend.clear_session()
        top = build(weights=None, input_shape=(224, 224, 3), include_top=True, **kw)
        keras.backend.clear_session()
        notop = build(weights=None, input_shape=(224, 224, 3), include_top=False, **kw)
        out[label] = {"params_top": int(top.count_params()), "params_notop": int(notop.count_params()),
                      "feature_map_hwc": list(notop.output_shape[1:]), "layers_notop": len(notop.layers)}
        print(label, out[label])
    out["_about"] = (f"Keras {KERAS_VERSION} (TensorFlow {tf.__version__}) model.count_params() at 224x224, weights=None; "
                     "written by data-scripts/keras-fixtures/make_fixtures.py --summaries")
    path.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--official-weights", help="folder holding mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5")
    ap.add_argument("--summaries", help="also write Keras' parameter counts and feature-map shapes at 224x224 to this JSON file")
    ap.add_argument("--only", nargs="*", help="make only these cases (architecture names, e.g. mobilenet_0.25 squeezenet, and "
                    "official case names); the others' committed files and fixtures.json entries are kept")
    a = ap.parse_args()
    if a.summaries:
        write_summaries(Path(a.summaries))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    index_file = out / "fixtures.json"
    index = json.loads(index_file.read_text()) if a.only and index_file.exists() else {}
    for i, (name, build, preprocess, kw, *size) in enumerate(ARCHITECTURES):
        if a.only and name not in a.only:
            continue
        SIZE = size[0] if size else SMALLEST
        rng = np.random.default_rng(SEED + i)
        tf.keras.utils.set_random_seed(SEED + i)
        raw = rng.integers(0, 256, size=(2, SIZE, SIZE, 3)).astype(np.float32)
        pre = preprocess(raw.copy())
        # one weight file per architecture, written from the model WITH its top (10 classes, logits);
        # the model without top loads the same file by layer name
        top = build(weights=None, input_shape=(SIZE, SIZE, 3), include_top=True, classes=10,
                    classifier_activation=None, **kw)
        randomise(top, pre, rng, SHORT_PERIOD if name in SHORT_PERIOD_ARCHITECTURES else PERIOD)
        weights = out / f"{name}.weights.h5"
        keep = tempfile.TemporaryDirectory()
        plain_copy = Path(keep.name) / "w.h5"
        with tempfile.TemporaryDirectory() as tmp:
            plain = Path(tmp) / "w.h5"
            top.save_weights(plain)  # Keras' HDF5 weight layout (.h5 suffix)
            shutil.copyfile(plain, plain_copy)
            compress_copy(plain, weights)
            keras.backend.clear_session()  # auto-generated names (normalization, rescaling) restart, so they match
            notop = build(weights=None, input_shape=(SIZE, SIZE, 3), include_top=False, **kw)
            notop.load_weights(plain, by_name=True)
            top_by_name = {l.name: l for l in top.layers}
            for layer in notop.layers:
                if layer.weights:
                    assert layer.name in top_by_name, f"{name}: no-top layer {layer.name} has no twin in the top model"
                    for mine, twin in zip(layer.get_weights(), top_by_name[layer.name].get_weights()):
                        assert np.array_equal(mine, twin), f"{name}: {layer.name} was not loaded by name"
        # the deepest networks (about 60 to 80 residual blocks) also get their output in float64: in float32 both
        # Keras and DL4J are up to about 1e-3 away from the exact result there, so 1e-4 is checked in float64
        exact = {}
        if name in FLOAT64_ARCHITECTURES:
            keras.backend.set_floatx("float64")
            for label in ("top", "notop"):
                keras.backend.clear_session()
                m64 = (build(weights=None, input_shape=(SIZE, SIZE, 3), include_top=True, classes=10, classifier_activation=None, **kw)
                       if label == "top" else build(weights=None, input_shape=(SIZE, SIZE, 3), include_top=False, **kw))
                m64.load_weights(plain_copy, by_name=label == "notop")
                exact[label] = m64(pre.astype(np.float64), training=False).numpy()
            keras.backend.set_floatx("float32")
        for label, model in (("top", top), ("notop", notop)):
            y = model(pre, training=False).numpy()
            case = f"{name}_{label}_{SIZE}"
            meta = {"keras_version": KERAS_VERSION, "tensorflow_version": tf.__version__, "case": case,
                    "architecture": build.__name__, "input_size": SIZE, "include_top": label == "top",
                    "config": json.dumps(kw), "weights_file": weights.name,
                    "weights": "random (periodic, see make_fixtures.py)"}
            save_io(out / f"{case}.io.h5", raw, pre, y, meta, exact.get(label))
            index[case] = {**meta, "output_shape": list(y.shape)}
            print(f"{case}: output {y.shape}, |y| max {np.abs(y).max():.3f}")
        print(f"  {weights.name}: {weights.stat().st_size / 1e3:.0f} kB")
        if name == "inceptionv3":
            keras20_names(weights, out / "inceptionv3_keras20_names.weights.h5")
            print("  inceptionv3_keras20_names.weights.h5: the same weights under names counted from 1")

    if a.official_weights:
        import hashlib
        for name, file, build, preprocess, arch, config, seed_offset in OFFICIAL:
            if a.only and name not in a.only:
                continue
            f = Path(a.official_weights) / file
            rng = np.random.default_rng(SEED + seed_offset)
            keras.backend.clear_session()
            model = build(f)
            raw = rng.integers(0, 256, size=(1, 96, 96, 3)).astype(np.float32)
            pre = preprocess(raw.copy())
            y = model(pre, training=False).numpy()
            meta = {"keras_version": KERAS_VERSION, "tensorflow_version": tf.__version__, "case": name,
                    "architecture": arch, "input_size": 96, "include_top": False, "config": json.dumps(config),
                    "weights": f.name, "weights_sha256": hashlib.sha256(f.read_bytes()).hexdigest()}
            save_io(out / f"{name}.io.h5", raw, None, y, meta)
            index[name] = {**meta, "output_shape": list(y.shape)}
            print(f"{name}: output {y.shape}, |y| max {np.abs(y).max():.3f} (official weights, not copied)")
    (out / "fixtures.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
