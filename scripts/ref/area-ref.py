#!/usr/bin/python3
"""References for tests/unit/test_area.c: OpenCV 4.6 cv2.resize(INTER_AREA) of 8-bit images,
shrinking, as val.py's load_image calls it.

usage: area-ref.py OUTDIR      writes OUTDIR/*.pnm and OUTDIR/manifest.txt

Manifest lines:  area IN.pnm DW DH OUT.pnm
Cases: the darknet photos at val.py's sizes (r = S / max(h, w), ceil(w*r) x ceil(h*r)) for
several S; integer factors (the 2x2 fast path, 3x3, 2x3, 4x1, 1x1); one-channel images; a seeded sweep of random crops and target sizes, thin ones included.
"""
import importlib.util
import math
import os
import sys

import cv2
import numpy as np

# the PNM writer of resample-ref.py (a file name with a hyphen: loaded by path)
_spec = importlib.util.spec_from_file_location(
    "resample_ref", os.path.join(os.path.dirname(os.path.abspath(__file__)), "resample-ref.py"))
_rr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rr)
write_pnm, PHOTOS = _rr.write_pnm, _rr.PHOTOS


def main(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1414)
    man, n = [], 0

    def case(img, dw, dh):
        nonlocal n
        tag = "a%03d" % n
        n += 1
        write_pnm(os.path.join(out, tag + ".in.pnm"), img)
        res = cv2.resize(img, (dw, dh), interpolation=cv2.INTER_AREA)
        write_pnm(os.path.join(out, tag + ".out.pnm"), res)
        man.append("area %s.in.pnm %d %d %s.out.pnm" % (tag, dw, dh, tag))

    for p in PHOTOS[:6]:
        im = cv2.imread(p)[..., ::-1]
        h0, w0 = im.shape[:2]
        for s in (640, 416, 320, 256, 100):
            r = s / max(h0, w0)
            if r < 1:
                case(im, math.ceil(w0 * r), math.ceil(h0 * r))
    im = cv2.imread(PHOTOS[0])[..., ::-1]
    crop = np.ascontiguousarray(im[:240, :360])
    for fx, fy in ((2, 2), (3, 3), (2, 3), (4, 1), (1, 1), (5, 2)):
        case(crop, 360 // fx, 240 // fy)
    case(np.ascontiguousarray(crop[..., 1]), 150, 101)        # one channel
    case(np.ascontiguousarray(crop[..., 1]), 180, 120)        # one channel, 2x
    for _ in range(60):
        p = PHOTOS[int(rng.integers(len(PHOTOS)))]
        im = cv2.imread(p)[..., ::-1]
        sh, sw = int(rng.integers(1, 200)), int(rng.integers(1, 260))
        y, x = int(rng.integers(0, im.shape[0] - sh)), int(rng.integers(0, im.shape[1] - sw))
        src = np.ascontiguousarray(im[y:y + sh, x:x + sw])
        dw, dh = int(rng.integers(1, sw + 1)), int(rng.integers(1, sh + 1))
        case(src, dw, dh)
    with open(os.path.join(out, "manifest.txt"), "w") as f:
        f.write("\n".join(man) + "\n")
    print("area-ref: %d cases" % n, file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
