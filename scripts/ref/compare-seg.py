#!/usr/bin/python3
"""Compare segmentation outputs with the PyTorch reference.

  compare-seg.py logits OURS.npy REF.npy [--rtol 1e-3]
      passes when max|ours-ref| <= rtol * max|ref| (shapes must match)
  compare-seg.py mask OURS.png REF.mask.png REF.margin.npy
                 [--min-equal 0.9999] [--margin 1e-3]
      reads both PNGs with np.array(Image.open()) (palette indices or L
      values); passes when at least min-equal of the pixels agree AND every
      differing pixel has a reference top-1/top-2 probability margin < margin

Prints the numbers on stdout; exit 0 = pass, 1 = fail, 2 = usage/input error.
"""
import argparse
import sys

import numpy as np
from PIL import Image


def fail_input(msg):
    print("compare-seg: " + msg, file=sys.stderr)
    sys.exit(2)


def load_npy(path):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        fail_input("%s: %s" % (path, e))


def load_png(path):
    try:
        return np.array(Image.open(path))
    except OSError as e:
        fail_input("%s: %s" % (path, e))


def cmd_logits(a):
    ours = load_npy(a.ours).astype(np.float64)
    ref = load_npy(a.ref).astype(np.float64)
    if ours.shape != ref.shape:
        print("logits: shape %s but reference %s" % (list(ours.shape), list(ref.shape)))
        return 1
    if not np.all(np.isfinite(ours)):
        print("logits: %d non-finite values" % int((~np.isfinite(ours)).sum()))
        return 1
    diff = np.abs(ours - ref)
    dmax = float(diff.max()) if diff.size else 0.0
    rmax = float(np.abs(ref).max()) if ref.size else 0.0
    rel = dmax / rmax if rmax > 0 else (0.0 if dmax == 0 else float("inf"))
    ok = dmax <= a.rtol * rmax
    at = np.unravel_index(int(diff.argmax()), diff.shape) if diff.size else ()
    print("logits: max abs diff %.6g at %s, max |ref| %.6g, relative %.6g, mean abs diff %.3g, "
          "rtol %g: %s" % (dmax, list(map(int, at)), rmax, rel,
                          float(diff.mean()) if diff.size else 0.0, a.rtol,
                          "ok" if ok else "FAIL"))
    return 0 if ok else 1


def cmd_mask(a):
    ours = load_png(a.ours)
    ref = load_png(a.ref)
    margin = load_npy(a.margin).astype(np.float64)
    if ours.ndim != 2 or ref.ndim != 2:
        print("mask: not single-channel: ours %s, reference %s" % (list(ours.shape), list(ref.shape)))
        return 1
    if ours.shape != ref.shape or margin.shape != ref.shape:
        print("mask: size ours %s, reference %s, margin %s" % (
            list(ours.shape), list(ref.shape), list(margin.shape)))
        return 1
    differ = ours != ref
    n = ref.size
    nd = int(differ.sum())
    frac_equal = (n - nd) / n if n else 1.0
    bad = int((differ & ~(margin < a.max_margin)).sum())
    ok = frac_equal >= a.min_equal and bad == 0
    print("mask: %d pixels, %d differ (%.4f%% equal), %d differ with margin >= %g: %s" % (
        n, nd, 100.0 * frac_equal, bad, a.max_margin, "ok" if ok else "FAIL"))
    if bad:
        ys, xs = np.nonzero(differ & ~(margin < a.max_margin))
        for y, x in list(zip(ys, xs))[:5]:
            print("  (x=%d, y=%d): ours %d, reference %d, margin %.3g" % (
                x, y, ours[y, x], ref[y, x], margin[y, x]))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("logits")
    p.add_argument("ours")
    p.add_argument("ref")
    p.add_argument("--rtol", type=float, default=1e-3)
    p = sub.add_parser("mask")
    p.add_argument("ours")
    p.add_argument("ref")
    p.add_argument("margin")
    p.add_argument("--min-equal", type=float, default=0.9999)
    p.add_argument("--margin", dest="max_margin", type=float, default=1e-3)
    a = ap.parse_args()
    return cmd_logits(a) if a.cmd == "logits" else cmd_mask(a)


if __name__ == "__main__":
    sys.exit(main())
