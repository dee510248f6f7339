#!/usr/bin/python3
"""Reference YOLOv5 detection, reproducing detect.py (v6.1/v7) on CPU in fp32.

  detect-ref.py --weights X.pt [--cfg M.yaml [--nc N]] --image IMG [--image ...]
                --out-dir D [--imgsz 640] [--conf 0.25] [--iou 0.45]
                [--max-det 1000] [--classes C ...] [--agnostic] [--multi-label]
                [--threads T]

Model: ckpt['ema'] if present else ckpt['model'], .float(); with --cfg the
weights file is a bare state_dict. Final detections use the BN-folded model
(detect.py fuses Conv+BN); the unfused model is run as well.
Image: cv2.imread (BGR, EXIF applied), rectangular letterbox (auto, stride
32, colour 114, INTER_LINEAR), BGR->RGB, x/255.

Writes per image (stem = file name without suffix):
  D/<stem>.head.npy          float32 [N, 5+nc] decoded head, fused model (what NMS sees)
  D/<stem>.head-unfused.npy  the same from the unfused model
  D/<stem>.letterbox.npy     uint8 [h, w, 3] RGB letterboxed input
  D/<stem>.dets.json         [{"cls","name","conf","xyxy_unrounded","xyxy"}] in NMS order (fused)
  D/<stem>.dets-unfused.json the same from the unfused model
  D/<stem>.txt               detect.py --save-txt --save-conf lines (rounded
                             boxes, normalised xywh, %g, lowest confidence first)
and one summary line per image on stderr.
"""
import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import yolo_ref as yr  # noqa: E402


def dets_json(det_unrounded, det_rounded, names):
    out = []
    for a, b in zip(det_unrounded.tolist(), det_rounded.tolist()):
        c = int(a[5])
        out.append({"cls": c, "name": names.get(c, str(c)), "conf": a[4],
                    "xyxy_unrounded": a[:4], "xyxy": [int(v) for v in b[:4]]})
    return out


def txt_lines(det, shape0):
    """detect.py --save-txt --save-conf: reversed(det), xywh/gn in float32, %g."""
    gn = torch.tensor(shape0)[[1, 0, 1, 0]]
    lines = []
    for *xyxy, conf, cls in reversed(det):
        xywh = (yr.xyxy2xywh(torch.tensor(xyxy).view(1, 4)) / gn).view(-1).tolist()
        line = (cls, *xywh, conf)
        lines.append(("%g " * len(line)).rstrip() % line + "\n")
    return "".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--cfg", help="model yaml when --weights is a bare state_dict")
    ap.add_argument("--nc", type=int, help="classes for --cfg (default: from the state_dict)")
    ap.add_argument("--image", action="append", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--conf", type=float, default=0.25)
    ap.add_argument("--iou", type=float, default=0.45)
    ap.add_argument("--max-det", type=int, default=1000)
    ap.add_argument("--classes", type=int, nargs="+")
    ap.add_argument("--agnostic", action="store_true")
    ap.add_argument("--multi-label", action="store_true")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    os.makedirs(a.out_dir, exist_ok=True)

    t0 = time.perf_counter()
    model, src = yr.load_model(a.weights, a.cfg, a.nc)
    fused = yr.fused_copy(model)
    names = model.names
    stride = max(int(model.stride.max()), 32)
    # detect.py: imgsz is [h, w]; check_img_size rounds each up to the stride and warns so.
    req = [a.imgsz, a.imgsz]
    new = [yr.make_divisible(x, stride) for x in req]
    if new != req:
        print(f"WARNING ⚠️ --img-size {req} must be multiple of max stride {stride}, updating to {new}",
              file=sys.stderr)
    imgsz = new[0]
    print("detect-ref: %s (%s, nc=%d) loaded and fused in %.0f ms" %
          (a.weights, src, model.model[-1].nc, 1e3 * (time.perf_counter() - t0)), file=sys.stderr)
    opts = dict(conf_thres=a.conf, iou_thres=a.iou, classes=a.classes, agnostic=a.agnostic,
                multi_label=a.multi_label, max_det=a.max_det)

    rc = 0
    for path in a.image:
        img0 = cv2.imread(path)
        if img0 is None:
            print("detect-ref: %s: cannot read image" % path, file=sys.stderr)
            rc = 1
            continue
        stem = os.path.splitext(os.path.basename(path))[0]
        base = os.path.join(a.out_dir, stem)
        t1 = time.perf_counter()
        lb = yr.letterbox(img0, imgsz, stride=stride, auto=True)
        im = yr.to_tensor(lb)
        t2 = time.perf_counter()
        with torch.no_grad():
            head = fused(im)[0][0]
            t3 = time.perf_counter()
            head_u = model(im)[0][0]
            t4 = time.perf_counter()
        det = yr.nms_one(head, **opts)
        t5 = time.perf_counter()
        det_u = yr.nms_one(head_u, **opts)

        np.save(base + ".letterbox.npy", np.ascontiguousarray(lb[..., ::-1]))
        np.save(base + ".head.npy", head.numpy().astype(np.float32))
        np.save(base + ".head-unfused.npy", head_u.numpy().astype(np.float32))
        out = {}
        for tag, d in (("", det), ("-unfused", det_u)):
            unr = yr.scale_boxes(im.shape[2:], d[:, :4].clone(), img0.shape)
            full = d.clone()
            full[:, :4] = unr
            rnd = full.clone()
            rnd[:, :4] = unr.round()
            out[tag] = (full, rnd)
            with open(base + ".dets%s.json" % tag, "w") as f:
                json.dump(dets_json(full, rnd, names), f, indent=1)
        with open(base + ".txt", "w") as f:
            f.write(txt_lines(out[""][1], img0.shape))

        counts = {}
        for c in det[:, 5].tolist():
            counts[int(c)] = counts.get(int(c), 0) + 1
        desc = ", ".join("%d %s%s" % (n, names.get(c, str(c)), "s" * (n > 1))
                         for c, n in sorted(counts.items()))
        same = (len(det) == len(det_u) and torch.equal(det[:, 5], det_u[:, 5]))
        dmax = (out[""][0][:, :4] - out["-unfused"][0][:, :4]).abs().max().item() \
            if same and len(det) else float("nan")
        print("%s: %dx%d %d dets (%s); pre %.1f ms, fused %.1f ms, unfused %.1f ms, NMS %.1f ms; "
              "head |fused-unfused| max %.3g; unfused dets %s (max box diff %.4f px)"
              % (path, im.shape[2], im.shape[3], len(det), desc or "none",
                 1e3 * (t2 - t1), 1e3 * (t3 - t2), 1e3 * (t4 - t3), 1e3 * (t5 - t4),
                 (head - head_u).abs().max().item(),
                 "same" if same else "DIFFER (%d)" % len(det_u), dmax), file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
