#!/usr/bin/python3
"""Compares infer-detect with the detect.py reference (scripts/ref/yolov5/detect-ref.py).

  compare-dets.py head OURS.npy REF.head.npy [--tol 1e-4]
      the decoded head outputs: max |ours - ref| <= tol * (max |ref|), per column group
  compare-dets.py dets OURS.txt REF.dets.json [--conf-tol 1e-4] [--px-tol 0.01]
      OURS.txt is `infer-detect --no-round` text output; the same boxes in the same order:
      class equal, confidence within conf-tol, unrounded corners within px-tol pixels.
  compare-dets.py jsonl OURS.jsonl REF.jsonl [--score-rtol 1e-4] [--px-tol 0.01] [--conf 0.001]
      infer-detect --val -f jsonl against val-ref.py eval --save-dets: per image the same
      letterbox and size and the same detections, matched within each class by their corners
      (so that near-tied scores may come in either order): scores within score-rtol of the
      reference's, corners [x, y, x + w, y + h] within px-tol pixels.  A detection may be in one
      file only if its score is within score-rtol of the confidence threshold conf (the other
      engine's may have fallen below it).
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


def read_jsonl(path):
    """OURS/REF.jsonl -> {image_id: (letterbox, width, height, [(class, score, corners), ...])}"""
    out = {}
    for k, line in enumerate(open(path), 1):
        r = json.loads(line)
        x, y, w, h = r["bbox"]
        im = (r.get("letterbox"), r["width"], r["height"])
        got = out.setdefault(r["image_id"], im + ([],))
        if got[:3] != im:
            raise SystemExit("%s: line %d: image '%s' is %s here, %s before" % (path, k, r["image_id"], im, got[:3]))
        got[3].append((r["category_id"], r["score"], (x, y, x + w, y + h)))
    return out


def jsonl(a):
    ours, ref = read_jsonl(a.ours), read_jsonl(a.ref)
    near = a.conf * (1 + a.score_rtol)  # a score this low may be on either side of conf in the other engine
    worst_s = worst_p = 0.0
    n = reordered = alone = 0
    for key in sorted(set(ours) | set(ref)):
        o, r = ours.get(key, (None, None, None, [])), ref.get(key, (None, None, None, []))
        if o[3] and r[3] and o[:3] != r[:3]:
            print("jsonl: image '%s': letterbox, width, height %s, reference %s: FAIL" % (key, o[:3], r[:3]))
            return 1
        used, last = [False] * len(o[3]), -1
        for i, (c, s, box) in enumerate(r[3]):
            best, best_d = None, None
            for j, (oc, _, obox) in enumerate(o[3]):
                if used[j] or oc != c:
                    continue
                d = max(abs(x - y) for x, y in zip(obox, box))
                if best_d is None or d < best_d:
                    best, best_d = j, d
            if best is None or best_d > a.px_tol:
                if s <= near:
                    alone += 1
                    continue
                closest = "none of its class" if best is None else "%.3g px" % best_d
                print("jsonl: image '%s': the reference's detection %d (class %d, score %.9g, %s) has no "
                      "counterpart within %g px (closest: %s): FAIL" % (key, i, c, s, box, a.px_tol, closest))
                return 1
            used[best] = True
            n += 1
            reordered += best < last  # ours has it before one the reference has before it
            last = max(last, best)
            worst_s = max(worst_s, abs(o[3][best][1] - s) / s)
            worst_p = max(worst_p, best_d)
        for j, (c, s, box) in enumerate(o[3]):
            if not used[j]:
                if s > near:
                    print("jsonl: image '%s': our detection %d (class %d, score %.9g, %s) is not in the reference: "
                          "FAIL" % (key, j, c, s, box))
                    return 1
                alone += 1
    good = worst_s <= a.score_rtol and worst_p <= a.px_tol
    print("jsonl: %d detections in %d images, the same (%d out of the reference's order, %d at the confidence "
          "threshold in one only), scores within %.2g relative, corners within %.2g px: %s" % (
              n, len(set(ours) | set(ref)), reordered, alone, worst_s, worst_p, "ok" if good else "FAIL"))
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
    j = sub.add_parser("jsonl")
    j.add_argument("ours")
    j.add_argument("ref")
    j.add_argument("--score-rtol", type=float, default=1e-4)
    j.add_argument("--px-tol", type=float, default=0.01)
    j.add_argument("--conf", type=float, default=0.001)
    a = p.parse_args()
    return {"head": head, "dets": dets, "jsonl": jsonl}[a.what](a)


if __name__ == "__main__":
    sys.exit(main())
