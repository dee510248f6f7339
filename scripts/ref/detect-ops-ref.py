#!/usr/bin/python3
"""References for tests/unit/test_detect.c: OpenCV 4.6 cv2.resize(INTER_LINEAR) on uint8,
yolov5's letterbox (utils/augmentations.letterbox, auto and fixed shape, scaleup, colour 114),
non_max_suppression (v7.0 semantics, one image, torch + torchvision.ops.nms) and
scale_boxes + clip_boxes + detect.py's .round().

usage: detect-ops-ref.py OUTDIR     writes the inputs, expected outputs and OUTDIR/manifest.txt

The NMS reference sorts with torch.sort(stable=True) where upstream uses the unstable argsort,
so that exactly equal confidences have one defined order (candidate order) to compare with.

Manifest lines (paths relative to OUTDIR; images are raw interleaved uint8, HWC):
  photo JPG RGB.raw W H                   PIL Image.open(JPG).convert('RGB')
  resize JPG C DW DH OUT.raw              cv2.resize of the decoded photo (C=1: its channel 1)
  blob FILE                               the file the 'rcase' offsets point into
  rcase SW SH C DW DH IN_OFF OUT_OFF      cv2.resize of a random image, both in the blob
  letterbox JPG WH WW AUTO OUT.raw OW OH NW NH LEFT TOP RATIO PADW PADH
  nms IN.npy NC CONF IOU MAXDET MULTI AGNOSTIC MAXWH CLASSES K OUT.npy
                                          CLASSES '-' or a comma list; OUT (K,6) x1 y1 x2 y2 conf cls
  scale IN.npy N W0 H0 OW OH ROUNDED.npy RAW.npy
"""
import glob
import os
import sys

import cv2
import numpy as np
import torch
import torchvision

PHOTOS = sorted(glob.glob("/usr/share/darknet/data/*.jpg"))


def letterbox(im, new_shape, auto, stride=32, color=(114, 114, 114)):
    """utils/augmentations.letterbox with scaleup=True, scaleFill=False (rewritten)."""
    h0, w0 = im.shape[:2]
    r = min(new_shape[0] / h0, new_shape[1] / w0)
    nw, nh = int(round(w0 * r)), int(round(h0 * r))
    dw, dh = new_shape[1] - nw, new_shape[0] - nh
    if auto:
        dw, dh = np.mod(dw, stride), np.mod(dh, stride)
    dw /= 2
    dh /= 2
    if (w0, h0) != (nw, nh):
        im = cv2.resize(im, (nw, nh), interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    im = cv2.copyMakeBorder(im, top, bottom, left, right, cv2.BORDER_CONSTANT, value=color)
    return im, (nw, nh, left, top, r, float(dw), float(dh))


def xywh2xyxy(x):
    y = x.clone()
    y[:, 0] = x[:, 0] - x[:, 2] / 2
    y[:, 1] = x[:, 1] - x[:, 3] / 2
    y[:, 2] = x[:, 0] + x[:, 2] / 2
    y[:, 3] = x[:, 1] + x[:, 3] / 2
    return y


def nms_ref(pred, conf_thres, iou_thres, classes, agnostic, multi_label, max_det, max_wh):
    """non_max_suppression for one image, v7.0 order of operations (rewritten)."""
    x = torch.from_numpy(pred)
    nc = x.shape[1] - 5
    multi_label = multi_label and nc > 1
    empty = torch.zeros((0, 6))
    x = x[x[:, 4] > conf_thres]
    if not x.shape[0]:
        return empty
    x = x.clone()
    x[:, 5:] *= x[:, 4:5]
    box = xywh2xyxy(x[:, :4])
    if multi_label:
        i, j = (x[:, 5:] > conf_thres).nonzero(as_tuple=False).T
        x = torch.cat((box[i], x[i, j + 5, None], j[:, None].float()), 1)
    else:
        conf, j = x[:, 5:].max(1, keepdim=True)
        x = torch.cat((box, conf, j.float()), 1)[conf.view(-1) > conf_thres]
    if classes is not None:
        x = x[(x[:, 5:6] == torch.tensor(classes)).any(1)]
    if not x.shape[0]:
        return empty
    order = torch.sort(x[:, 4], descending=True, stable=True).indices[:30000]
    x = x[order]
    c = x[:, 5:6] * (0 if agnostic else max_wh)
    keep = torchvision.ops.nms(x[:, :4] + c, x[:, 4], iou_thres)[:max_det]
    return x[keep]


def scale_ref(img1_shape, boxes, img0_shape):
    """scale_boxes (ratio_pad None) + clip_boxes, on a float32 tensor (rewritten)."""
    gain = min(img1_shape[0] / img0_shape[0], img1_shape[1] / img0_shape[1])
    pad = (img1_shape[1] - img0_shape[1] * gain) / 2, (img1_shape[0] - img0_shape[0] * gain) / 2
    boxes[:, [0, 2]] -= pad[0]
    boxes[:, [1, 3]] -= pad[1]
    boxes[:, :4] /= gain
    boxes[:, 0].clamp_(0, img0_shape[1])
    boxes[:, 1].clamp_(0, img0_shape[0])
    boxes[:, 2].clamp_(0, img0_shape[1])
    boxes[:, 3].clamp_(0, img0_shape[0])
    return boxes


def head_output(rng, n, nc, clusters, quant):
    """Decoded Detect rows: boxes bunched around a few centres so many overlap."""
    cen = rng.uniform(0, 640, (clusters, 2))
    size = rng.uniform(10, 200, (clusters, 2))
    k = rng.integers(0, clusters, n)
    p = np.empty((n, 5 + nc), np.float32)
    p[:, 0:2] = cen[k] + rng.normal(0, 6, (n, 2))
    p[:, 2:4] = size[k] * rng.uniform(0.8, 1.25, (n, 2))
    p[:, 4] = rng.uniform(0, 1, n)
    p[:, 5:] = rng.uniform(0, 1, (n, nc)) ** 2
    if quant:  # many exactly equal confidences and class scores
        p[:, 4] = np.round(p[:, 4] * quant) / quant
        p[:, 5:] = np.round(p[:, 5:] * quant) / quant
    return p


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    man = []
    rng = np.random.default_rng(20240611)

    def raw(name, a):
        np.ascontiguousarray(a, np.uint8).tofile(os.path.join(out, name))
        return name

    # Photos: resize sweep and letterboxes.
    for pi, path in enumerate(PHOTOS):
        from PIL import Image
        im = np.array(Image.open(path).convert("RGB"))
        h, w = im.shape[:2]
        man.append("photo %s %s %d %d" % (path, raw("p%d.raw" % pi, im), w, h))
        sizes = [(w // 2, h // 2), (333, 251), (w + 1, h - 1), (1, h), (w, 1), (1, 1),
                 (w * 2, h * 2) if w * h < 200000 else (w * 3 // 4, h * 3 // 4)]
        for si, (dw, dh) in enumerate(sizes):
            r = cv2.resize(im, (dw, dh), interpolation=cv2.INTER_LINEAR)
            man.append("resize %s 3 %d %d %s" % (path, dw, dh, raw("p%d_r%d.raw" % (pi, si), r)))
        g = np.ascontiguousarray(im[:, :, 1])
        for si, (dw, dh) in enumerate([(w // 2, h // 2), (317, 211), (w * 5 // 4, h * 5 // 4)]):
            r = cv2.resize(g, (dw, dh), interpolation=cv2.INTER_LINEAR)
            man.append("resize %s 1 %d %d %s" % (path, dw, dh, raw("p%d_g%d.raw" % (pi, si), r)))
        for li, (shape, auto) in enumerate([((640, 640), True), ((640, 640), False),
                                            ((320, 320), True), ((320, 320), False),
                                            ((384, 640), False), ((416, 352), True)]):
            lb, (nw, nh, left, top, r, pw, ph) = letterbox(im, shape, auto)
            name = raw("p%d_lb%d.raw" % (pi, li), lb)
            man.append("letterbox %s %d %d %d %s %d %d %d %d %d %d %r %r %r" %
                       (path, shape[0], shape[1], int(auto), name, lb.shape[1], lb.shape[0], nw, nh,
                        left, top, r, pw, ph))

    # Random images: every row width 1..80 (x 1 and 3 channels), random sizes, 2x up and down.
    blob = bytearray()
    cases = []
    for c in (1, 3):
        src = rng.integers(0, 256, (9, 7, c), np.uint8)
        for dw in range(1, 81):
            cases.append((src, dw, 5))
    for it in range(500):
        c = (1, 2, 3, 4)[it % 4]
        sh, sw = (int(v) for v in rng.integers(1, 40, 2))
        src = rng.integers(0, 256, (sh, sw, c), np.uint8)
        dh, dw = (int(v) for v in rng.integers(1, 80, 2))
        cases.append((src, dw, dh))
        cases.append((src, sw * 2, sh * 2))
        if sw % 2 == 0 and sh % 2 == 0:
            cases.append((src, sw // 2, sh // 2))
        cases.append((src, sw, max(1, sh - 1)))
        if it % 10 == 0:
            cases.append((src, sw, sh))  # same size: a copy
    for src, dw, dh in cases:
        sh, sw, c = src.shape
        a = src[:, :, 0] if c == 1 else src
        r = cv2.resize(a, (dw, dh), interpolation=cv2.INTER_LINEAR)
        ioff = len(blob)
        blob += src.tobytes()
        ooff = len(blob)
        blob += np.ascontiguousarray(r).tobytes()
        man.append("rcase %d %d %d %d %d %d %d" % (sw, sh, c, dw, dh, ioff, ooff))
    with open(os.path.join(out, "cases.bin"), "wb") as f:
        f.write(blob)
    man.insert(0, "blob cases.bin")

    # NMS on random head outputs.
    nms_cases = [
        # n, nc, clusters, quant, conf, iou, max_det, multi, agnostic, max_wh, classes
        (3000, 80, 40, 0, "0.25", "0.45", 1000, 0, 0, 7680, None),
        (3000, 80, 40, 0, "0.001", "0.6", 300, 1, 0, 7680, None),
        (3000, 3, 25, 0, "0.25", "0.45", 1000, 0, 1, 7680, None),
        (3000, 3, 25, 0, "0.1", "0.5", 1000, 1, 1, 7680, None),
        (2000, 7, 30, 16, "0.25", "0.45", 1000, 0, 0, 7680, None),
        (2000, 7, 30, 16, "0.05", "0.65", 1000, 1, 0, 4096, None),
        (2000, 7, 30, 8, "0.3", "0.45", 1000, 0, 0, 7680, [0, 2, 5]),
        (2000, 7, 30, 8, "0.01", "0.7", 1000, 1, 0, 7680, [6, 1]),
        (2000, 1, 30, 0, "0.25", "0.45", 1000, 1, 0, 7680, None),
        (2000, 10, 30, 0, "0.2", "0.45", 7, 0, 0, 7680, None),
        (2000, 10, 30, 0, "0.01", "0.3", 3, 1, 1, 7680, None),
        (500, 2, 5, 0, "0.9", "0.45", 1000, 0, 0, 7680, None),
        (31000, 2, 20, 0, "0.001", "0.45", 300, 1, 0, 7680, None),
    ]
    for ci, (n, nc, cl, q, conf, iou, md, multi, agn, mwh, classes) in enumerate(nms_cases):
        p = head_output(rng, n, nc, cl, q)
        if ci == 1:  # NaN class scores: the row drops out (single) or the class does (multi)
            p[::97, 5 + 3] = np.nan
        if ci == 0:
            p[::89, 5 + 7] = np.nan
        np.save(os.path.join(out, "nms%d_in.npy" % ci), p)
        r = nms_ref(p, float(conf), float(iou), classes, bool(agn), bool(multi), md, mwh)
        r = r.numpy().astype(np.float32)
        np.save(os.path.join(out, "nms%d_out.npy" % ci), r)
        man.append("nms nms%d_in.npy %d %s %s %d %d %d %d %s %d nms%d_out.npy" %
                   (ci, nc, conf, iou, md, multi, agn, mwh,
                    ",".join(str(c) for c in classes) if classes else "-", len(r), ci))
    # IoU exactly 0.6f (> 0.6 in double): torchvision suppresses; equal-score ties by index.
    p = np.zeros((6, 6), np.float32)
    p[0] = [5, 5, 10, 10, 0.9, 1]   # box 0..10
    p[1] = [5, 3, 10, 6, 0.8, 1]    # 0..10 x 0..6: IoU 60/100
    p[2] = [105, 105, 10, 10, 0.7, 1]
    p[3] = [105, 105, 10, 10, 0.7, 1]  # same box, same score: the lower index survives
    p[4] = [205, 205, 10, 10, 0.5, 1]
    p[5] = [205, 204, 10, 9, 0.5, 1]  # IoU 0.9 exactly representable? no matter: suppressed
    for iou in ("0.6", "0.45"):
        k = len(man)
        np.save(os.path.join(out, "nmsx%d_in.npy" % k), p)
        r = nms_ref(p, 0.25, float(iou), None, False, False, 1000, 7680).numpy()
        np.save(os.path.join(out, "nmsx%d_out.npy" % k), r.astype(np.float32))
        man.append("nms nmsx%d_in.npy 1 0.25 %s 1000 0 0 7680 - %d nmsx%d_out.npy" %
                   (k, iou, len(r), k))

    # scale_boxes on many boxes, for letterbox shapes of random originals.
    for si in range(40):
        w0, h0 = (int(v) for v in rng.integers(1, 2000, 2))
        if si < 4:
            w0, h0 = [(1280, 720), (810, 1080), (1280, 702), (768, 576)][si]
        shape = [(640, 640), (320, 320), (384, 640)][si % 3]
        dummy = np.zeros((h0, w0, 1), np.uint8)
        try:
            lb, _ = letterbox(dummy, shape, si % 2 == 0)
        except cv2.error:
            continue  # too elongated to letterbox
        oh, ow = lb.shape[:2]
        n = 400
        b = np.empty((n, 4), np.float32)
        b[:, 0:2] = rng.uniform(-30, max(ow, oh) + 30, (n, 2))
        b[:, 2:4] = b[:, 0:2] + rng.uniform(0, 300, (n, 2))
        b[: n // 4] = np.round(b[: n // 4] * 4) / 4  # quarter pixels: more .5 cases after scaling
        np.save(os.path.join(out, "sc%d_in.npy" % si), b)
        s = scale_ref((oh, ow), torch.from_numpy(b.copy()), (h0, w0))
        np.save(os.path.join(out, "sc%d_raw.npy" % si), s.numpy())
        np.save(os.path.join(out, "sc%d_round.npy" % si), s.round().numpy())
        man.append("scale sc%d_in.npy %d %d %d %d %d sc%d_round.npy sc%d_raw.npy" %
                   (si, n, w0, h0, ow, oh, si, si))

    with open(os.path.join(out, "manifest.txt"), "w") as f:
        f.write("\n".join(man) + "\n")


if __name__ == "__main__":
    main()
