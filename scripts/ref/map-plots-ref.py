#!/usr/bin/python3
"""Reference for evaluate-map --plots: NumPy re-implementations, written from ultralytics/yolov5
v7.0 val.py and utils/metrics.py, of the arrays val.py plots (ap_per_class with plot=True:
px = linspace(0, 1, 1000), the per-class precision envelope py at recall px, the P, R and F1
curves at confidence px, and plot_pr_curve / plot_mc_curve's thick "all classes" curves) and of
ConfusionMatrix (conf 0.25, IoU 0.45) as val.py feeds it.  ap_per_class is map-ref.py's.

    map-plots-ref.py expect LABELS NAMES DETS.jsonl OUT   the expected CSV files in OUT
    map-plots-ref.py make OUT                             a synthetic set in OUT, with OUT/expected
    map-plots-ref.py compare GOT WANT [TOL]               the CSV files of two folders, numbers
                                                          within TOL (1e-6); prints the max diff

The CSV files are those evaluate-map --plots writes (see evaluate-map(1)).  Images are taken in
label-stem order and detections by decreasing score then input order, as evaluate-map does;
upstream's sorts are NumPy's default quicksort, which leaves ties unspecified in general and
keeps them in order on the small arrays process_batch sorts: kind="stable" here.
"""
import csv
import importlib.util
import json
import os
import sys

import numpy as np

_spec = importlib.util.spec_from_file_location("map_ref", os.path.join(os.path.dirname(__file__), "map-ref.py"))
map_ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(map_ref)
box_iou, process_batch, smooth = map_ref.box_iou, map_ref.process_batch, map_ref.smooth
ap_per_class = map_ref.ap_per_class

FILES = ["PR_curve.csv", "F1_curve.csv", "P_curve.csv", "R_curve.csv", "confusion_matrix.csv"]


def read_set(labels_dir, names_file, dets_file):
    """-> names, {stem: [(cls, cx, cy, w, h)]}, [det dicts in input order]"""
    names = open(names_file).read().splitlines()
    labels = {}
    for f in sorted(os.listdir(labels_dir)):
        if f.startswith(".") or not f.endswith(".txt") or len(f) <= 4:
            continue
        rows = []
        for line in open(os.path.join(labels_dir, f)):
            v = line.split()
            if v:
                r = (int(float(v[0])),) + tuple(float(x) for x in v[1:])
                if r not in rows:  # ultralytics drops exact duplicates
                    rows.append(r)
        labels[f[:-4]] = rows
    dets = []
    for line in open(dets_file):
        if not line.strip():
            continue
        o = json.loads(line)
        key = o["image_id"]
        if isinstance(key, int):  # a number names the zero-padded label stem
            key = next((s for s in labels if s.isdigit() and int(s) == key), str(key))
        x, y, w, h = o["bbox"]
        dets.append({"key": key, "cls": int(o["category_id"]), "box": [x, y, x + w, y + h],
                     "score": float(o["score"]), "W": o["width"], "H": o["height"]})
    return names, labels, dets


def label_boxes(rows, W, H):
    lab = np.array(rows, dtype=np.float64).reshape(-1, 5)
    xywh = lab[:, 1:] * np.array([W, H, W, H])
    box = np.stack([xywh[:, 0] - xywh[:, 2] / 2, xywh[:, 1] - xywh[:, 3] / 2,
                    xywh[:, 0] + xywh[:, 2] / 2, xywh[:, 1] + xywh[:, 3] / 2], 1)
    return np.concatenate((lab[:, :1], box), 1)


class ConfusionMatrix:
    """metrics.py's ConfusionMatrix.process_batch, in NumPy."""

    def __init__(self, nc, conf=0.25, iou_thres=0.45):
        self.matrix = np.zeros((nc + 1, nc + 1))
        self.nc, self.conf, self.iou_thres = nc, conf, iou_thres

    def process_batch(self, detections, labels):
        if detections is None:  # val.py passes labels[:, 0] here
            for gc in labels.astype(int):
                self.matrix[self.nc, gc] += 1
            return
        detections = detections[detections[:, 4] > self.conf]
        gt_classes = labels[:, 0].astype(int)
        detection_classes = detections[:, 5].astype(int)
        iou = box_iou(labels[:, 1:], detections[:, :4])
        x = np.where(iou > self.iou_thres)
        if x[0].shape[0]:
            matches = np.concatenate((np.stack(x, 1), iou[x[0], x[1]][:, None]), 1)
            if x[0].shape[0] > 1:
                matches = matches[matches[:, 2].argsort(kind="stable")[::-1]]
                matches = matches[np.unique(matches[:, 1], return_index=True)[1]]
                matches = matches[matches[:, 2].argsort(kind="stable")[::-1]]
                matches = matches[np.unique(matches[:, 0], return_index=True)[1]]
        else:
            matches = np.zeros((0, 3))
        n = matches.shape[0] > 0
        m0, m1, _ = matches.transpose().astype(int)
        for i, gc in enumerate(gt_classes):
            j = m0 == i
            if n and sum(j) == 1:
                self.matrix[detection_classes[m1[j]], gc] += 1
            else:
                self.matrix[self.nc, gc] += 1
        if n:
            for i, dc in enumerate(detection_classes):
                if not any(m1 == i):
                    self.matrix[dc, self.nc] += 1


def expect(labels_dir, names_file, dets_file, out):
    names, labels, dets = read_set(labels_dir, names_file, dets_file)
    nc = len(names)
    iouv = np.linspace(0.5, 0.95, 10)
    cm = ConfusionMatrix(nc)
    stats = []
    for key in sorted(set(labels) | {d["key"] for d in dets}):
        d = sorted([(k, x) for k, x in enumerate(dets) if x["key"] == key], key=lambda kx: (-kx[1]["score"], kx[0]))
        rows = labels.get(key, [])
        tcls = np.array([r[0] for r in rows], dtype=np.float64)
        if not d:
            if rows:
                stats.append((np.zeros((0, 10), bool), np.zeros(0), np.zeros(0), tcls))
                cm.process_batch(None, tcls)
            continue
        pred = np.array([x["box"] + [x["score"], x["cls"]] for _, x in d], dtype=np.float64)
        correct = np.zeros((len(pred), 10), bool)
        if rows:
            labelsn = label_boxes(rows, d[0][1]["W"], d[0][1]["H"])
            correct = process_batch(pred, labelsn, iouv)
            cm.process_batch(pred, labelsn)
        stats.append((correct, pred[:, 4], pred[:, 5], tcls))
    stats = [np.concatenate(x, 0) for x in zip(*stats)] if stats else [np.zeros((0, 10), bool)] + [np.zeros(0)] * 3
    cv = {}
    with np.errstate(all="ignore"):  # no class with labels: a mean of nothing, unused here
        ap_class = ap_per_class(*stats, curves=cv)[3]
    px, py, p, r, f1 = cv["px"], cv["py"], cv["p"], cv["r"], cv["f1"]
    ndet = np.bincount(stats[2].astype(int), minlength=nc)
    with_pr = [c for c in ap_class if ndet[c]]
    lab_names = [names[c] for c in ap_class]
    os.makedirs(out, exist_ok=True)
    # plot_pr_curve: py.mean(1) over its curves; none at all (no detections) gives 0 here
    pr_all = np.stack(py, 1).mean(1) if py else np.zeros(1000)
    write_curve(os.path.join(out, "PR_curve.csv"), "recall", px, [names[c] for c in with_pr],
                np.stack(py, 0) if py else np.zeros((0, 1000)), pr_all)
    for fname, y in (("F1_curve.csv", f1), ("P_curve.csv", p), ("R_curve.csv", r)):
        # plot_mc_curve: smooth(py.mean(0), 0.05); no class with labels gives 0 here
        write_curve(os.path.join(out, fname), "confidence", px, lab_names, y,
                    smooth(y.mean(0), 0.05) if len(y) else np.zeros(1000))
    with open(os.path.join(out, "confusion_matrix.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["predicted/true"] + names + ["background"])
        for i, row in enumerate(cm.matrix):
            w.writerow([(names + ["background"])[i]] + ["%d" % v for v in row])
    return cm.matrix


def write_curve(path, xname, px, cols, rows, all_):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([xname] + list(cols) + ["all classes"])
        for j in range(1000):
            w.writerow([repr(float(px[j]))] + [repr(float(v[j])) for v in rows] + [repr(float(all_[j]))])


def compare(got, want, tol=1e-6):
    bad = 0
    for name in FILES:
        a = list(csv.reader(open(os.path.join(got, name))))
        b = list(csv.reader(open(os.path.join(want, name))))
        if a[0] != b[0] or len(a) != len(b):
            print("%s: header %r, %d rows; want %r, %d rows" % (name, a[0], len(a), b[0], len(b)))
            bad += 1
            continue
        worst, where = 0.0, None
        for k, (x, y) in enumerate(zip(a[1:], b[1:]), 2):
            if len(x) != len(y) or x[0] != y[0] and name.startswith("confusion"):
                print("%s: line %d: %r, want %r" % (name, k, x, y))
                bad += 1
                break
            for u, v in zip(x, y):
                if name.startswith("confusion") and u == v:
                    continue
                d = abs(float(u) - float(v))
                if d > worst:
                    worst, where = d, (k, u, v)
        print("%s: max difference %.3g%s" % (name, worst, "" if where is None else " (line %d: %s, want %s)" % where))
        bad += worst > tol
    return bad


def make(out):
    """Four classes with labels (one never detected), two without (one detected, one not), and
    images for every path of ConfusionMatrix: labels without detections, detections all under
    0.25, detections over 0.25 that overlap nothing, class confusions, duplicates, one box on
    two labels, equal IoUs (the same box under two classes), and detections without labels."""
    rng = np.random.default_rng(7)
    names = ["person", 'traffic "light", red', "o'clock", "dog", "kite", "unused"]
    os.makedirs(os.path.join(out, "labels"), exist_ok=True)
    scores = iter(rng.permutation(np.arange(1, 100000))[:5000] / 100000.0)
    lines = []

    def det(key, cls, box, W, H, score=None):
        x1, y1, x2, y2 = box
        lines.append({"image_id": key, "category_id": int(cls),
                      "bbox": [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
                      "score": float(next(scores)) if score is None else score, "width": W, "height": H})

    for n in range(30):
        key, W, H = "im%02d" % n, 640, 480
        rows = []
        for _ in range(int(rng.integers(1, 6))):
            cls = int(rng.choice([0, 0, 1, 2, 3]))
            w, h = rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.4)
            rows.append((cls, round(rng.uniform(w / 2, 1 - w / 2), 4), round(rng.uniform(h / 2, 1 - h / 2), 4),
                         round(w, 4), round(h, 4)))
        kind = n % 10
        if kind == 9 and n > 10:
            rows = []  # detections, no labels: left out of the matrix
        with open(os.path.join(out, "labels", key + ".txt"), "w") as f:
            f.writelines("%d %g %g %g %g\n" % r for r in rows)
        if kind == 0:
            continue  # labels, no detections at all
        for cls, cx, cy, w, h in rows:
            box = np.array([(cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H])
            jit = rng.uniform(-0.12, 0.12, 4) * np.array([w * W, h * H, w * W, h * H])
            u = rng.random()
            if cls == 3:
                continue  # class 3: labels only
            s = float(rng.uniform(0.01, 0.24)) if kind == 1 else None  # all under 0.25
            if u < 0.6:
                det(key, cls, box + jit, W, H, s)
            elif u < 0.8:
                det(key, (cls + 1) % 3, box + jit, W, H, s)  # the wrong class
            elif u < 0.9:
                det(key, cls, box + jit, W, H, s)  # two on one object
                det(key, cls, box - jit / 2, W, H, s)
            else:  # the same box under two classes: equal IoUs
                det(key, cls, box, W, H, s)
                det(key, (cls + 2) % 3, box, W, H, s)
        if kind == 2:  # over 0.25 but overlapping no label
            det(key, 4, (0, 0, 5, 5), W, H, 0.9)
        for _ in range(int(rng.integers(0, 3)) if kind != 1 else 0):  # stray boxes, class 4 (no labels) too
            x, y = rng.uniform(0, W - 60), rng.uniform(0, H - 60)
            det(key, int(rng.choice([0, 1, 2, 4])), (x, y, x + 50, y + 40), W, H)
    # one box across two labels of one class: it takes the better one
    with open(os.path.join(out, "labels", "two.txt"), "w") as f:
        f.write("0 0.3 0.5 0.2 0.4\n0 0.42 0.5 0.2 0.4\n")
    det("two", 0, (150, 140, 290, 340), 640, 480, 0.8)
    rng.shuffle(lines)
    with open(os.path.join(out, "dets.jsonl"), "w") as f:
        f.writelines(json.dumps(o) + "\n" for o in lines)
    with open(os.path.join(out, "names.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    m = expect(os.path.join(out, "labels"), os.path.join(out, "names.txt"), os.path.join(out, "dets.jsonl"),
               os.path.join(out, "expected"))
    print("map-plots-ref: %d detections; confusion matrix total %d, background row %d, column %d" %
          (len(lines), m.sum(), m[-1].sum(), m[:, -1].sum()), file=sys.stderr)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "expect":
        expect(*args)
    elif cmd == "make":
        make(*args)
    elif cmd == "compare":
        sys.exit(1 if compare(args[0], args[1], float(args[2]) if len(args) > 2 else 1e-6) else 0)
    else:
        sys.exit("usage: map-plots-ref.py expect|make|compare ...")
