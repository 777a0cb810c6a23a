#!/usr/bin/env python3
"""OpenCV-Python reference for the data-pipeline part of leukolab's speed harness: a plain loop that
decodes each image, applies report 002's contour crop (the function that made leukolab's pixel-exact
test fixture, data-scripts/contour-fixtures/make_reference.py) and resizes to 128x128 — how the report's
own code prepared its data. Prints one JSON line.

    python tools/bench/pipeline_opencv.py folder=data/blood-cells/dataset2-master/images/TRAIN limit=0
"""
import importlib.util
import json
import sys
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("contour_reference", ROOT / "data-scripts/contour-fixtures/make_reference.py")
contour = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(contour)

EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}


def main(argv):
    a = dict(x.split("=", 1) for x in argv)
    folder = Path(a.get("folder", "data/blood-cells/dataset2-master/images/TRAIN"))
    limit = int(a.get("limit", 0))
    files = sorted(p for p in folder.glob("*/*") if p.suffix.lower() in EXTENSIONS and not p.name.startswith("."))
    if 0 < limit < len(files):
        step = len(files) // limit
        files = [files[i * step] for i in range(limit)]
    t0 = time.perf_counter()
    done = 0
    for f in files:
        bgr = cv2.imread(str(f))
        if bgr is None:
            continue
        out, _, _ = contour.crop(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        cv2.resize(out, (128, 128), interpolation=cv2.INTER_LINEAR)
        done += 1
    s = time.perf_counter() - t0
    print(json.dumps({"framework": "opencv-python " + cv2.__version__, "task": "decode+contour crop+resize 128",
                      "images": done, "seconds": round(s, 3), "img_s": round(done / s, 2),
                      "threads": f"one loop; OpenCV's own threads: {cv2.getNumThreads()}"}))


if __name__ == "__main__":
    main(sys.argv[1:])
