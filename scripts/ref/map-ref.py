#!/usr/bin/python3
"""Reference for evaluate-map: a NumPy re-implementation of ultralytics/yolov5 val.py's metric
(process_batch matching at IoU 0.5:0.95, ap_per_class with compute_ap's 101-point 'interp' method
and the smoothed-F1 choice of P and R, as in v7.0), written from its description, on a synthetic
data set made here.

    map-ref.py OUT     writes OUT/labels/*.txt, OUT/dets.jsonl, OUT/names.txt, OUT/expected.json

The set holds: jittered true detections (IoU from about 0.45 to 0.99), duplicates of one object,
low-confidence false positives, a wrong-class detection, an image with an empty label file, an
image with detections but no label file, an image with labels but no detections, numeric image ids
for zero-padded stems, a class with labels and no detections (3), a class with detections and no
labels (4) and a class with neither (5).

Ties are broken as evaluate-map does (NumPy's argsort leaves them unspecified): within an image by
decreasing score then input order, across images by image key; all scores here are distinct.
"""
import json
import os
import sys

import numpy as np

NC = 6
NAMES = ["person", "bicycle", "car", "dog", "kite", "horse"]


def box_iou(a, b):
    """a (M,4), b (N,4) xyxy -> (M,N), as utils.metrics.box_iou (eps 1e-7)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clip(0)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-7)


def process_batch(dets, labels, iouv):
    """dets (N,6) x1 y1 x2 y2 conf cls; labels (M,5) cls x1 y1 x2 y2 -> correct (N,10)."""
    correct = np.zeros((dets.shape[0], iouv.shape[0]), dtype=bool)
    iou = box_iou(labels[:, 1:], dets[:, :4])
    same = labels[:, 0:1] == dets[:, 5]
    for i in range(len(iouv)):
        x = np.where((iou >= iouv[i]) & same)
        if x[0].shape[0]:
            matches = np.concatenate((np.stack(x, 1), iou[x[0], x[1]][:, None]), 1)
            if x[0].shape[0] > 1:
                matches = matches[matches[:, 2].argsort()[::-1]]
                matches = matches[np.unique(matches[:, 1], return_index=True)[1]]
                matches = matches[np.unique(matches[:, 0], return_index=True)[1]]
            correct[matches[:, 1].astype(int), i] = True
    return correct


def smooth(y, f=0.05):
    nf = round(len(y) * f * 2) // 2 + 1
    p = np.ones(nf // 2)
    yp = np.concatenate((p * y[0], y, p * y[-1]), 0)
    return np.convolve(yp, np.ones(nf) / nf, mode="valid")


def compute_ap(recall, precision):
    """-> AP, and the precision envelope mpre at the recalls mrec (what val.py plots)."""
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([1.0], precision, [0.0]))
    mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
    x = np.linspace(0, 1, 101)
    return np.trapz(np.interp(x, mrec, mpre), x), mpre, mrec


def ap_per_class(tp, conf, pred_cls, target_cls, eps=1e-16, curves=None):
    """curves: a dict that receives what plot=True draws: px, py (per class with labels and
    detections), p, r, f1 (per class with labels)."""
    i = np.argsort(-conf, kind="stable")
    tp, conf, pred_cls = tp[i], conf[i], pred_cls[i]
    unique_classes, nt = np.unique(target_cls, return_counts=True)
    nc = unique_classes.shape[0]
    px, py = np.linspace(0, 1, 1000), []
    ap, p, r = np.zeros((nc, tp.shape[1])), np.zeros((nc, 1000)), np.zeros((nc, 1000))
    for ci, c in enumerate(unique_classes):
        i = pred_cls == c
        n_l, n_p = nt[ci], i.sum()
        if n_p == 0 or n_l == 0:
            continue
        fpc = (1 - tp[i]).cumsum(0)
        tpc = tp[i].cumsum(0)
        recall = tpc / (n_l + eps)
        r[ci] = np.interp(-px, -conf[i], recall[:, 0], left=0)
        precision = tpc / (tpc + fpc)
        p[ci] = np.interp(-px, -conf[i], precision[:, 0], left=1)
        for j in range(tp.shape[1]):
            ap[ci, j], mpre, mrec = compute_ap(recall[:, j], precision[:, j])
            if j == 0:
                py.append(np.interp(px, mrec, mpre))
    f1 = 2 * p * r / (p + r + eps)
    if curves is not None:
        curves.update(px=px, py=py, p=p, r=r, f1=f1)
    i = smooth(f1.mean(0), 0.1).argmax()
    return p[:, i], r[:, i], ap, unique_classes.astype(int), px[i]


def evaluate(label_rows, images, dets, nc):
    """label_rows: key -> list of (cls, cx, cy, w, h) normalised; images: sorted keys;
    dets: list of dicts (key, cls, box xyxy, score, W, H) in input order."""
    iouv = np.linspace(0.5, 0.95, 10)
    stats = []
    for key in images:
        d = [(k, x) for k, x in enumerate(dets) if x["key"] == key]
        d.sort(key=lambda kx: (-kx[1]["score"], kx[0]))
        lab = np.array(label_rows.get(key, []), dtype=np.float64).reshape(-1, 5)
        tcls = lab[:, 0]
        if not d:
            if len(lab):
                stats.append((np.zeros((0, 10), bool), np.zeros(0), np.zeros(0), tcls))
            continue
        pred = np.array([x["box"] + [x["score"], x["cls"]] for _, x in d], dtype=np.float64)
        if len(lab):
            W, H = d[0][1]["W"], d[0][1]["H"]
            xywh = lab[:, 1:] * np.array([W, H, W, H])
            tbox = np.stack([xywh[:, 0] - xywh[:, 2] / 2, xywh[:, 1] - xywh[:, 3] / 2,
                             xywh[:, 0] + xywh[:, 2] / 2, xywh[:, 1] + xywh[:, 3] / 2], 1)
            correct = process_batch(pred, np.concatenate((lab[:, :1], tbox), 1), iouv)
        else:
            correct = np.zeros((len(pred), 10), bool)
        stats.append((correct, pred[:, 4], pred[:, 5], tcls))
    stats = [np.concatenate(x, 0) for x in zip(*stats)]
    nt = np.bincount(stats[3].astype(int), minlength=nc)
    ndet = np.bincount(np.array([x["cls"] for x in dets], dtype=int), minlength=nc)
    out = {"num_classes": nc, "images": len(images), "instances": int(nt.sum()), "detections": len(dets),
           "iou_thresholds": [float(v) for v in iouv]}
    classes = [{"class": c, "name": NAMES[c], "instances": int(nt[c]), "detections": int(ndet[c]),
                "p": None, "r": None, "ap50": None, "ap50_95": None, "ap": None} for c in range(nc)]
    if stats[0].any():
        p, r, ap, ap_class, conf = ap_per_class(*stats)
        ap50, apm = ap[:, 0], ap.mean(1)
        out.update(p=float(p.mean()), r=float(r.mean()), map50=float(ap50.mean()), map50_95=float(apm.mean()),
                   conf=float(conf))
        for i, c in enumerate(ap_class):
            classes[c].update(p=float(p[i]), r=float(r[i]), ap50=float(ap50[i]), ap50_95=float(apm[i]),
                              ap=[float(v) for v in ap[i]])
    out["classes"] = classes
    return out


def make_set(out):
    rng = np.random.default_rng(20240611)
    os.makedirs(os.path.join(out, "labels"), exist_ok=True)
    label_rows, dets, sizes = {}, [], {}
    scores = iter(rng.permutation(np.arange(1, 100000))[:5000] / 100000.0)  # distinct
    keys = ["img%03d" % i for i in range(24)] + ["000000000042", "000000000107"]

    def add_det(key, cls, box, W, H, numeric=None):
        x1, y1, x2, y2 = [float(v) for v in box]
        x1, y1 = max(0.0, min(x1, W)), max(0.0, min(y1, H))
        x2, y2 = max(x1, min(x2, W)), max(y1, min(y2, H))
        bbox = [round(x1, 3), round(y1, 3), round(x2 - x1, 3), round(y2 - y1, 3)]
        s = float(next(scores))
        dets.append({"key": key, "id": numeric if numeric is not None else key, "cls": int(cls),
                     "bbox": bbox, "box": [bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]],
                     "score": s, "W": W, "H": H})

    for n, key in enumerate(keys):
        W, H = [(640, 480), (500, 375), (333, 500), (1280, 720)][n % 4]
        sizes[key] = (W, H)
        rows = []
        nobj = 0 if key == "img005" else int(rng.integers(1, 7))
        for _ in range(nobj):
            cls = int(rng.choice([0, 0, 1, 2, 3]))
            w, h = rng.uniform(0.05, 0.5), rng.uniform(0.05, 0.5)
            cx, cy = rng.uniform(w / 2, 1 - w / 2), rng.uniform(h / 2, 1 - h / 2)
            rows.append([cls] + [float("%.6f" % v) for v in (cx, cy, w, h)])
        label_rows[key] = rows
        with open(os.path.join(out, "labels", key + ".txt"), "w") as f:
            for r in rows:
                f.write("%d %.6f %.6f %.6f %.6f\n" % tuple(r))
        if key == "img007":
            continue  # labels, no detections
        numeric = int(key) if key.isdigit() else None
        for r in rows:
            cls, cx, cy, w, h = r
            if cls == 3:
                continue  # class 3: labels only
            x1, y1, x2, y2 = (cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H
            bw, bh = x2 - x1, y2 - y1
            u = rng.random()
            if u < 0.8:
                j = rng.uniform(-0.15, 0.15, 4) * [bw, bh, bw, bh]
                add_det(key, cls, (x1 + j[0], y1 + j[1], x2 + j[2], y2 + j[3]), W, H, numeric)
                if rng.random() < 0.25:  # a duplicate of the same object
                    j = rng.uniform(-0.1, 0.1, 4) * [bw, bh, bw, bh]
                    add_det(key, cls, (x1 + j[0], y1 + j[1], x2 + j[2], y2 + j[3]), W, H, numeric)
            elif u < 0.9:  # the wrong class on the object
                add_det(key, (cls + 1) % 3, (x1, y1, x2, y2), W, H, numeric)
        for _ in range(int(rng.integers(0, 4))):  # low-confidence false positives, class 4 too
            x, y = rng.uniform(0, W - 40), rng.uniform(0, H - 40)
            add_det(key, int(rng.choice([0, 1, 2, 4])), (x, y, x + rng.uniform(10, 40), y + rng.uniform(10, 40)),
                    W, H, numeric)
            dets[-1]["score"] = dets[-1]["score"] / 10 + 3e-7
    # an image with detections and no label file
    for _ in range(3):
        add_det("nolabel", 0, (10, 10, 60, 80), 320, 240)
    rng.shuffle(dets)
    with open(os.path.join(out, "dets.jsonl"), "w") as f:
        for d in dets:
            f.write(json.dumps({"image_id": d["id"], "category_id": d["cls"], "bbox": d["bbox"],
                                "score": d["score"], "width": d["W"], "height": d["H"]}) + "\n")
    with open(os.path.join(out, "names.txt"), "w") as f:
        f.write("\n".join(NAMES) + "\n")
    images = sorted(set(keys) | {"nolabel"})
    exp = evaluate(label_rows, images, dets, NC)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1)
    print("map-ref: %d images, %d labels, %d detections, mAP50 %.4f mAP50-95 %.4f" %
          (exp["images"], exp["instances"], exp["detections"], exp["map50"], exp["map50_95"]), file=sys.stderr)


if __name__ == "__main__":
    make_set(sys.argv[1])
