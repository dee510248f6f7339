#!/usr/bin/python3
"""Compares infer-detect with the detect.py reference (scripts/ref/yolov5/detect-ref.py).

  compare-dets.py head OURS.npy REF.head.npy [--tol 1e-4]
      the decoded head outputs: max |ours - ref| <= tol * (max |ref|), per column group
  compare-dets.py dets OURS.txt REF.dets.json [--conf-tol 1e-4] [--px-tol 0.01]
      OURS.txt is `infer-detect --no-round` text output; the same boxes in the same order:
      class equal, confidence within conf-tol, unrounded corners within px-tol pixels.
Exit 0 when within tolerance, 1 otherwise; prints the largest differences.
"""
import argparse
import json
import sys

import numpy as np


def head(a):
    ours, ref = np.load(a.ours), np.load(a.ref)
    if ours.shape != ref.shape:
        print("head: shapes differ: ours %s, reference %s" % (ours.shape, ref.shape))
        return 1
    ok = True
    # boxes are in pixels, scores in 0..1: judge each against its own range
    for name, sl in (("boxes", slice(0, 4)), ("scores", slice(4, None))):
        d = np.abs(ours[:, sl].astype(np.float64) - ref[:, sl])
        rng = max(float(np.abs(ref[:, sl]).max()), 1e-12)
        rel = float(d.max()) / rng
        good = rel <= a.tol
        ok &= good
        print("head %s: max abs diff %.3g, range %.4g, relative %.3g (tolerance %g): %s" % (
            name, d.max(), rng, rel, a.tol, "ok" if good else "FAIL"))
    return 0 if ok else 1


def dets(a):
    ref = json.load(open(a.ref))
    ours = []
    for line in open(a.ours):
        f = line.split()
        ours.append((int(f[0]), float(f[1]), [float(v) for v in f[2:6]]))
    if len(ours) != len(ref):
        print("dets: ours %d boxes, reference %d: FAIL" % (len(ours), len(ref)))
        return 1
    # Boxes whose confidences differ by float noise may come in either order: match each
    # reference box to the closest unmatched one of ours with the same class.
    worst_c = worst_p = 0.0
    reordered = 0
    used = [False] * len(ours)
    for i, r in enumerate(ref):
        best, best_d = None, None
        for j, o in enumerate(ours):
            if used[j] or o[0] != r["cls"]:
                continue
            d = max(abs(x - y) for x, y in zip(o[2], r["xyxy_unrounded"]))
            if best_d is None or d < best_d:
                best, best_d = j, d
        if best is None:
            print("dets: reference box %d (class %d) has no counterpart: FAIL" % (i, r["cls"]))
            return 1
        used[best] = True
        reordered += best != i
        worst_c = max(worst_c, abs(ours[best][1] - r["conf"]))
        worst_p = max(worst_p, best_d)
    good = worst_c <= a.conf_tol and worst_p <= a.px_tol
    print("dets: %d boxes, classes equal, %d in another order, max confidence diff %.2g, max corner diff "
          "%.4f px: %s" % (len(ours), reordered, worst_c, worst_p, "ok" if good else "FAIL"))
    return 0 if good else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    h = sub.add_parser("head")
    h.add_argument("ours")
    h.add_argument("ref")
    h.add_argument("--tol", type=float, default=1e-4)
    d = sub.add_parser("dets")
    d.add_argument("ours")
    d.add_argument("ref")
    d.add_argument("--conf-tol", type=float, default=1e-4)
    d.add_argument("--px-tol", type=float, default=0.01)
    a = p.parse_args()
    return head(a) if a.what == "head" else dets(a)


if __name__ == "__main__":
    sys.exit(main())
