#!/usr/bin/python3
"""Reference for evaluate-miou --list: upstream get_miou's confusion matrix and metrics over a
VOC-style list, computed with NumPy from the masks on disk.

Usage: miou-list-ref.py LIST GT_DIR PRED_DIR N OUTDIR

Reads LIST as get_miou.py reads val.txt (one name per line; blank lines dropped), the masks
GT_DIR/NAME.png and PRED_DIR/NAME.png with np.array(Image.open()), and writes into OUTDIR
confusion_matrix.csv (Python's csv module, as upstream), expected.json and
expected-upstream.txt, with the metric functions of miou-ref.py (written from
notes/segmentation.md section 1.4).  Names: the 21 VOC names for N=21, else 0..N-1.
"""
import csv
import importlib.util
import json
import os
import sys

import numpy as np
from PIL import Image

sys.dont_write_bytecode = True
_spec = importlib.util.spec_from_file_location(
    "miou_ref", os.path.join(os.path.dirname(os.path.abspath(__file__)), "miou-ref.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    lst, gt_dir, pred_dir, n, out = sys.argv[1:]
    n = int(n)
    names = ref.VOC if n == 21 else [str(i) for i in range(n)]
    ids = [s.strip() for s in open(lst).read().splitlines()]
    ids = [s for s in ids if s and not s.startswith("#")]
    hist = np.zeros((n, n))
    for i in ids:
        gt = np.array(Image.open(os.path.join(gt_dir, i + ".png")))
        pred = np.array(Image.open(os.path.join(pred_dir, i + ".png")))
        if gt.shape != pred.shape or gt.ndim != 2:
            sys.exit("miou-list-ref: %s: shapes %s and %s" % (i, gt.shape, pred.shape))
        assert int(pred.max()) < n, "%s: prediction value >= %d" % (i, n)
        hist += ref.confusion(gt.flatten(), pred.flatten(), n)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "confusion_matrix.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([" "] + names)
        h = np.array(hist, np.int64)
        for i in range(n):
            w.writerow([names[i]] + list(h[i]))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(ref.as_json(hist, names, False), f, indent=1)
    with open(os.path.join(out, "expected-upstream.txt"), "w") as f:
        f.write(ref.upstream_lines(hist, names, False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
