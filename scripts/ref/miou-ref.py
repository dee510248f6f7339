#!/usr/bin/python3
"""Reference for evaluate-miou: a synthetic segmentation set and the metrics NumPy gives on it.

Usage: miou-ref.py OUTDIR [--seed S] [--images K]

The metric functions follow bubbliiiing's utils/utils_metrics.py as described in
notes/segmentation.md section 1.4 (written from that description): a float confusion matrix
(rows = ground truth, columns = prediction) over pixels with 0 <= gt < n, every denominator
clamped with max(., 1), means by np.nanmean; and mmsegmentation's variant where a zero
denominator gives NaN and the means skip it.

Writes into OUTDIR:
  pred/NNN.png gt/NNN.png   masks: palette (mode P, some at 2 or 4 bits) and grayscale (mode L)
  pairs.txt                 "pred/NNN.png gt/NNN.png" lines, relative to OUTDIR
  shard1.txt shard2.txt shard3.txt   the same pairs split in three
  names.txt                 the 21 VOC class names
  expected.json             upstream metrics, expected-nan.json mmseg metrics
  expected-upstream.txt     upstream get_miou's printed lines (str(round(x*100, 2)))
  expected-upstream-nan.txt the same lines with the mmseg metrics
  confusion_matrix.csv      as upstream writes it with the csv module (CRLF)
"""
import argparse
import csv
import json
import os
import sys

import numpy as np
from PIL import Image

VOC = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
       "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
       "sheep", "sofa", "train", "tvmonitor"]
N = 21


from vocpalette import voc_palette  # noqa: E402


# ---- the upstream metric functions, re-implemented ----

def confusion(gt, pred, n):
    keep = (gt >= 0) & (gt < n)
    idx = n * gt[keep].astype(int) + pred[keep].astype(int)
    return np.bincount(idx, minlength=n * n).reshape(n, n)


def iou_upstream(hist):
    return np.diag(hist) / np.maximum(hist.sum(1) + hist.sum(0) - np.diag(hist), 1)


def recall_upstream(hist):
    return np.diag(hist) / np.maximum(hist.sum(1), 1)


def precision_upstream(hist):
    return np.diag(hist) / np.maximum(hist.sum(0), 1)


def accuracy_upstream(hist):
    return np.sum(np.diag(hist)) / np.maximum(np.sum(hist), 1)


def nan_ratio(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den == 0, np.nan, num / np.where(den == 0, 1, den))


def metrics(hist, nan_absent):
    d = np.diag(hist)
    if nan_absent:
        iou = nan_ratio(d, hist.sum(1) + hist.sum(0) - d)
        rec = nan_ratio(d, hist.sum(1))
        prec = nan_ratio(d, hist.sum(0))
        acc = float(nan_ratio(np.array([np.sum(d)]), np.array([np.sum(hist)]))[0])
    else:
        iou, rec, prec, acc = (iou_upstream(hist), recall_upstream(hist),
                               precision_upstream(hist), accuracy_upstream(hist))
    return iou, rec, prec, acc


def nanmean(v):
    return np.nan if np.all(np.isnan(v)) else np.nanmean(v)


def as_json(hist, names, nan_absent):
    iou, rec, prec, acc = metrics(hist, nan_absent)
    f = lambda x: None if np.isnan(x) else float(x)
    return {
        "num_classes": len(names),
        "classes": [{"name": names[i], "iou": f(iou[i]), "recall": f(rec[i]),
                     "precision": f(prec[i]), "gt_pixels": int(hist.sum(1)[i]),
                     "pred_pixels": int(hist.sum(0)[i])} for i in range(len(names))],
        "miou": f(nanmean(iou)), "mpa": f(nanmean(rec)), "mprecision": f(nanmean(prec)),
        "accuracy": f(acc), "pixels": int(np.sum(hist)),
    }


def upstream_lines(hist, names, nan_absent):
    iou, rec, prec, acc = metrics(hist, nan_absent)
    out = []
    for i, name in enumerate(names):
        out.append("===>" + name + ":\tIou-" + str(round(iou[i] * 100, 2)) +
                   "; Recall (equal to the PA)-" + str(round(rec[i] * 100, 2)) +
                   "; Precision-" + str(round(prec[i] * 100, 2)))
    out.append("===> mIoU: " + str(round(nanmean(iou) * 100, 2)) + "; mPA: " +
               str(round(nanmean(rec) * 100, 2)) + "; Accuracy: " +
               str(round(np.float64(acc) * 100, 2)))
    return "".join(s + "\n" for s in out)


# ---- the synthetic set ----

def make_pair(rng, k):
    h, w = int(rng.integers(20, 60)), int(rng.integers(20, 70))
    # classes 16..20 never appear in labels; 18 shows up in a few predictions only
    present = rng.choice(16, size=int(rng.integers(2, 7)), replace=False)
    if k == 0:
        present = np.array([0, 1, 2, 3])  # a small palette: PIL writes it at 2 bits
    gt = present[rng.integers(0, len(present), size=(h, w))].astype(np.uint8)
    # blocky labels, so predictions are partly right
    gt = np.repeat(np.repeat(gt[::4, ::4], 4, 0), 4, 1)[:h, :w]
    pred = gt.copy()
    noise = rng.random((h, w)) < 0.25
    pred[noise] = present[rng.integers(0, len(present), size=int(noise.sum()))]
    if k % 3 == 1:
        pred[rng.random((h, w)) < 0.02] = 18
    if k != 0:
        gt[rng.random((h, w)) < 0.05] = 255                               # VOC ignore
        gt[rng.random((h, w)) < 0.03] = rng.integers(N, 40, dtype=np.uint8)  # >= n: ignored too
    return gt, pred


def save_mask(a, path, mode):
    if mode == "L":
        Image.fromarray(a, "L").save(path)
    else:
        im = Image.fromarray(a, "P")
        pal = voc_palette()
        if a.max() < 4:
            pal = pal[:12]   # 4 colours: a 2-bit PNG
        elif a.max() < 16:
            pal = pal[:48]   # 16 colours: a 4-bit PNG
        im.putpalette(pal)
        im.save(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--images", type=int, default=12)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    os.makedirs(os.path.join(a.outdir, "pred"), exist_ok=True)
    os.makedirs(os.path.join(a.outdir, "gt"), exist_ok=True)
    hist = np.zeros((N, N))
    lines = []
    for k in range(a.images):
        gt, pred = make_pair(rng, k)
        p, g = "pred/%03d.png" % k, "gt/%03d.png" % k
        save_mask(pred, os.path.join(a.outdir, p), "P" if k % 2 == 0 else "L")
        save_mask(gt, os.path.join(a.outdir, g), "L" if k % 4 == 1 else "P")
        # read back as upstream does, so the reference sees what is on disk
        gt_r = np.array(Image.open(os.path.join(a.outdir, g)))
        pred_r = np.array(Image.open(os.path.join(a.outdir, p)))
        assert gt_r.ndim == 2 and (gt_r == gt).all() and (pred_r == pred).all()
        hist += confusion(gt_r.flatten(), pred_r.flatten(), N)
        lines.append("%s %s\n" % (p, g))
    with open(os.path.join(a.outdir, "pairs.txt"), "w") as f:
        f.writelines(lines)
    cut = [0, len(lines) // 3, 2 * len(lines) // 3, len(lines)]
    for s in range(3):
        with open(os.path.join(a.outdir, "shard%d.txt" % (s + 1)), "w") as f:
            f.writelines(lines[cut[s]:cut[s + 1]])
    with open(os.path.join(a.outdir, "names.txt"), "w") as f:
        f.write("".join(n + "\n" for n in VOC))
    for nan_absent, suffix in ((False, ""), (True, "-nan")):
        with open(os.path.join(a.outdir, "expected%s.json" % suffix), "w") as f:
            json.dump(as_json(hist, VOC, nan_absent), f, indent=1)
        with open(os.path.join(a.outdir, "expected-upstream%s.txt" % suffix), "w") as f:
            f.write(upstream_lines(hist, VOC, nan_absent))
    with open(os.path.join(a.outdir, "confusion_matrix.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([" "] + VOC)
        h = np.array(hist, np.int64)
        for i in range(N):
            w.writerow([VOC[i]] + list(h[i]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
