#!/usr/bin/python3
"""Reference for infer-detect --val | evaluate-map: ultralytics/yolov5 val.py's algorithm
(v7.0 and later) re-implemented from its source, on CPU in fp32.

  val-ref.py eval (--weights X.pt | --w MODEL.w) --list LIST --labels DIR
                  [--batch-size 32] [--imgsz 640] [--conf 0.001] [--iou 0.6] [--max-det 300]
                  [--dets DETS.jsonl] [--save-dets OUT.jsonl]
      prints JSON: p, r, map50, map50_95, the val.py line ("%11.3g" x 4), per-class APs
      --save-dets: also writes the network's detections (after NMS and scale_boxes) as
      infer-detect --val -f jsonl writes them: per detection image_id (the file's stem),
      category_id, bbox [x1, y1, x2 - x1, y2 - y1] in val.py's box space, score, letterbox
      [w, h, W, H] (load_image's size, the batch shape), width, height
      --dets: scores those detections (e.g. infer-detect --val's) instead of the network's: the
      same dataloader, labels and metrics, but no forward pass and no NMS; each detection's
      box becomes predn's row (x1, y1, x + w, y + h in float32), an image's detections go in
      by decreasing score as NMS hands them over (ties in file order), and an image's
      letterbox, width and height must be the ones computed here.  The model is still loaded
      (its stride makes the batch shapes, its nc is num_classes).
  val-ref.py make-set OUT
      OUT/images/*.jpg, OUT/labels/*.txt, OUT/val.txt: the sample images (samples/) cut to
      many aspect ratios (tall, wide, square, equal ratios at different sizes, sizes above and
      below 640), their labels clipped to each crop; two more stored transposed with EXIF
      orientations 5 and 7

Dataloader (LoadImagesAndLabels, rect=True, pad 0.5): paths sorted; sizes from exif_size (PIL,
w and h swapped for EXIF orientation 6 and 8); numpy argsort of h/w; batch shapes
ceil(shape * imgsz / stride + pad) * stride; load_image (cv2.imread, long side to imgsz with
ceil sizes, INTER_AREA shrinking, INTER_LINEAR enlarging); letterbox(auto=False,
scaleup=False); labels through xywhn2xyxy and xyxy2xywhn(clip, eps 1e-3).  val.py: the batch
through the fused model, x/255; non_max_suppression multi-label; scale_boxes with ratio_pad
((h/h0, w/w0), pad) for predictions and labels; process_batch at IoU 0.5:0.95 (torch, float32);
ap_per_class (map-ref.py).  The NMS time limit is not reproduced.
"""
import argparse
import importlib.util
import json
import math
import os
import struct
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

import yolo_ref as yr  # noqa: E402

_spec = importlib.util.spec_from_file_location("map_ref", os.path.join(HERE, "..", "map-ref.py"))
map_ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(map_ref)


def exif_size(path):
    im = Image.open(path)
    s = im.size
    try:
        rotation = dict(im._getexif().items())[274]
        if rotation in (6, 8):
            s = (s[1], s[0])
    except Exception:
        pass
    return s


def load_w(path, tmp):
    """A .w (safetensors) -> a bare state_dict checkpoint and its yaml, for yr.load_model."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        data = f.read()
    meta = head.pop("__metadata__", {})
    dt = {"F16": np.float16, "F32": np.float32, "BF16": None}
    sd = {}
    for k, v in head.items():
        a, b = v["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=dt[v["dtype"]]).reshape(v["shape"])
        sd[k] = torch.from_numpy(arr.astype(np.float32))
    ck, cfg = os.path.join(tmp, "sd.pt"), os.path.join(tmp, "model.yaml")
    torch.save(sd, ck)
    with open(cfg, "w") as f:
        f.write(meta["yaml"])
    return ck, cfg


def box_iou(a, b, eps=1e-7):
    (a1, a2), (b1, b2) = a.unsqueeze(1).chunk(2, 2), b.unsqueeze(0).chunk(2, 2)
    inter = (torch.min(a2, b2) - torch.max(a1, b1)).clamp(0).prod(2)
    return inter / ((a2 - a1).prod(2) + (b2 - b1).prod(2) - inter + eps)


def process_batch(detections, labels, iouv):
    correct = np.zeros((detections.shape[0], iouv.shape[0])).astype(bool)
    iou = box_iou(labels[:, 1:], detections[:, :4])
    correct_class = labels[:, 0:1] == detections[:, 5]
    for i in range(len(iouv)):
        x = torch.where((iou >= iouv[i]) & correct_class)
        if x[0].shape[0]:
            matches = torch.cat((torch.stack(x, 1), iou[x[0], x[1]][:, None]), 1).cpu().numpy()
            if x[0].shape[0] > 1:
                matches = matches[matches[:, 2].argsort()[::-1]]
                matches = matches[np.unique(matches[:, 1], return_index=True)[1]]
                matches = matches[np.unique(matches[:, 0], return_index=True)[1]]
            correct[matches[:, 1].astype(int), i] = True
    return torch.tensor(correct, dtype=torch.bool)


def read_labels(path):
    if not os.path.isfile(path):
        return np.zeros((0, 5), np.float32)
    with open(path) as f:
        lb = [x.split() for x in f.read().strip().splitlines() if len(x)]
    lb = np.array(lb, dtype=np.float32).reshape(-1, 5)
    if len(lb):
        _, i = np.unique(lb, axis=0, return_index=True)
        lb = lb[i] if len(i) < len(lb) else lb
    return lb


def read_dets(path):
    """DETS.jsonl -> {image_id: [(line number, record), ...]}."""
    dets = {}
    with open(path) as f:
        for k, line in enumerate(f, 1):
            if line.strip():
                d = json.loads(line)
                dets.setdefault(d["image_id"], []).append((k, d))
    return dets


def given_pred(recs, meta, path):
    """An image's detections from --dets as NMS's output [x1, y1, x2, y2, conf, cls] (float32),
    already in scale_boxes' space, by decreasing score (a stable sort: ties in file order)."""
    (h0, w0), lbox = meta
    rows = []
    for k, d in recs:
        if list(d["letterbox"]) != lbox or (d["width"], d["height"]) != (w0, h0):
            raise SystemExit("%s: line %d: image '%s' has letterbox %s, %gx%g; val.py's is %s, %dx%d" % (
                path, k, d["image_id"], d["letterbox"], d["width"], d["height"], lbox, w0, h0))
        x, y, w, h = d["bbox"]
        rows.append([x, y, x + w, y + h, d["score"], d["category_id"]])
    pred = torch.tensor(rows, dtype=torch.float32).reshape(-1, 6)
    return pred[torch.sort(pred[:, 4], descending=True, stable=True)[1]]


def det_records(predn, meta, image_id):
    """predn's rows as infer-detect --val's jsonl records."""
    (h0, w0), lbox = meta
    out = []
    for x1, y1, x2, y2, conf, cls in predn.tolist():
        out.append(json.dumps({"image_id": image_id, "category_id": int(cls), "bbox": [x1, y1, x2 - x1, y2 - y1],
                               "score": conf, "letterbox": lbox, "width": int(w0), "height": int(h0)}) + "\n")
    return out


def evaluate(a):
    tmp = tempfile.mkdtemp()
    weights, cfg = (a.weights, None) if a.weights else load_w(a.w, tmp)
    model, _ = yr.load_model(weights, cfg)
    model = yr.fused_copy(model)
    stride = max(int(model.stride.max()), 32)
    imgsz = yr.make_divisible(a.imgsz, stride)
    nc = model.model[-1].nc
    with open(a.list) as f:
        files = [x.strip() for x in f.read().strip().splitlines() if x.strip()]
    files = sorted(files)
    stem = lambda p: os.path.splitext(os.path.basename(p))[0]  # noqa: E731
    labels = [read_labels(os.path.join(a.labels, stem(p) + ".txt")) for p in files]
    given = read_dets(a.dets) if a.dets else None
    if given is not None and set(given) - set(map(stem, files)):
        raise SystemExit("%s: detections of images not in %s: %s" % (
            a.dets, a.list, " ".join(sorted(set(given) - set(map(stem, files))))))
    saved = []
    s = np.array([exif_size(p) for p in files])
    n = len(files)
    bi = np.floor(np.arange(n) / a.batch_size).astype(int)
    nb = bi[-1] + 1
    ar = s[:, 1] / s[:, 0]
    irect = ar.argsort()
    files = [files[i] for i in irect]
    labels = [labels[i] for i in irect]
    ar = ar[irect]
    shapes = [[1, 1]] * nb
    for i in range(nb):
        ari = ar[bi == i]
        mini, maxi = ari.min(), ari.max()
        if maxi < 1:
            shapes[i] = [maxi, 1]
        elif mini > 1:
            shapes[i] = [1, 1 / mini]
    batch_shapes = np.ceil(np.array(shapes) * imgsz / stride + 0.5).astype(int) * stride

    iouv = torch.linspace(0.5, 0.95, 10)
    stats, seen = [], 0
    for b in range(nb):
        idx = [i for i in range(n) if bi[i] == b]
        ims, tg, metas = [], [], []
        for si, i in enumerate(idx):
            im = cv2.imread(files[i])
            h0, w0 = im.shape[:2]
            r = imgsz / max(h0, w0)
            if r != 1:
                im = cv2.resize(im, (math.ceil(w0 * r), math.ceil(h0 * r)),
                                interpolation=cv2.INTER_LINEAR if r > 1 else cv2.INTER_AREA)
            h, w = im.shape[:2]
            shape = batch_shapes[b]
            # letterbox(auto=False, scaleup=False), with its ratio and padding
            rr = min(min(shape[0] / h, shape[1] / w), 1.0)
            unpad = int(round(w * rr)), int(round(h * rr))
            dw, dh = (shape[1] - unpad[0]) / 2, (shape[0] - unpad[1]) / 2
            lb = yr.letterbox(im, tuple(int(x) for x in shape), auto=False, scaleup=False)
            pad = (dw, dh)
            lab = labels[i].copy()
            if lab.size:  # xywhn2xyxy, then xyxy2xywhn(clip=True, eps=1e-3)
                x = lab[:, 1:].copy()
                y = np.copy(x)
                y[:, 0] = rr * w * (x[:, 0] - x[:, 2] / 2) + pad[0]
                y[:, 1] = rr * h * (x[:, 1] - x[:, 3] / 2) + pad[1]
                y[:, 2] = rr * w * (x[:, 0] + x[:, 2] / 2) + pad[0]
                y[:, 3] = rr * h * (x[:, 1] + x[:, 3] / 2) + pad[1]
                H, W = lb.shape[:2]
                y[:, [0, 2]] = y[:, [0, 2]].clip(0, W - 1e-3)
                y[:, [1, 3]] = y[:, [1, 3]].clip(0, H - 1e-3)
                z = np.copy(y)
                z[:, 0] = ((y[:, 0] + y[:, 2]) / 2) / W
                z[:, 1] = ((y[:, 1] + y[:, 3]) / 2) / H
                z[:, 2] = (y[:, 2] - y[:, 0]) / W
                z[:, 3] = (y[:, 3] - y[:, 1]) / H
                lab[:, 1:] = z
            t = torch.zeros((len(lab), 6))
            if len(lab):
                t[:, 1:] = torch.from_numpy(lab)
            t[:, 0] = si
            tg.append(t)
            ims.append(torch.from_numpy(np.ascontiguousarray(lb.transpose((2, 0, 1))[::-1])))
            metas.append(((h0, w0), ((h / h0, w / w0), pad), files[i], [w, h, int(shape[1]), int(shape[0])]))
        targets = torch.cat(tg, 0)
        nbi, (height, width) = len(ims), ims[0].shape[1:]
        if given is None:
            im = torch.stack(ims, 0).float()
            im /= 255
            with torch.no_grad():
                preds = model(im)[0]
        targets[:, 2:] *= torch.tensor((width, height, width, height))
        for si in range(nbi):
            image_id = stem(metas[si][2])
            if given is None:
                pred = yr.nms_one(preds[si], conf_thres=a.conf, iou_thres=a.iou, multi_label=True,
                                  max_det=a.max_det)
            else:
                pred = given_pred(given.get(image_id, []), (metas[si][0], metas[si][3]), a.dets)
            lab = targets[targets[:, 0] == si, 1:]
            nl, npr = lab.shape[0], pred.shape[0]
            shape0, ratio_pad = metas[si][0], metas[si][1]
            correct = torch.zeros(npr, 10, dtype=torch.bool)
            seen += 1
            if npr == 0:
                if nl:
                    stats.append((correct, torch.zeros(0), torch.zeros(0), lab[:, 0]))
                continue
            predn = pred.clone()
            if given is None:
                scale_ratio_pad(predn[:, :4], shape0, ratio_pad)
                saved += det_records(predn, (shape0, metas[si][3]), image_id)
            if nl:
                tbox = yr.xywh2xyxy(lab[:, 1:5])
                scale_ratio_pad(tbox, shape0, ratio_pad)
                correct = process_batch(predn, torch.cat((lab[:, 0:1], tbox), 1), iouv)
            stats.append((correct, pred[:, 4], pred[:, 5], lab[:, 0]))
    if a.save_dets:
        with open(a.save_dets, "w") as f:
            f.write("".join(saved))
    stats = [torch.cat(x, 0).cpu().numpy() for x in zip(*stats)]
    out = {"images": seen, "instances": int(len(stats[3])), "num_classes": nc}
    mp = mr = map50 = map5095 = 0.0
    classes = {}
    if len(stats) and stats[0].any():
        p, r, ap, ap_class, _ = map_ref.ap_per_class(*stats)
        ap50, apm = ap[:, 0], ap.mean(1)
        mp, mr, map50, map5095 = p.mean(), r.mean(), ap50.mean(), apm.mean()
        classes = {int(c): {"p": float(p[i]), "r": float(r[i]), "ap50": float(ap50[i]), "ap50_95": float(apm[i])}
                   for i, c in enumerate(ap_class)}
    out.update(p=float(mp), r=float(mr), map50=float(map50), map50_95=float(map5095), classes=classes,
               line=("%11.3g" * 4) % (mp, mr, map50, map5095))
    print(json.dumps(out, indent=1))


def scale_ratio_pad(boxes, shape0, ratio_pad):
    """scale_boxes(img1_shape, boxes, img0_shape, ratio_pad) + clip_boxes, in place."""
    gain, pad = ratio_pad[0][0], ratio_pad[1]
    boxes[..., [0, 2]] -= pad[0]
    boxes[..., [1, 3]] -= pad[1]
    boxes[..., :4] /= gain
    boxes[..., 0].clamp_(0, shape0[1])
    boxes[..., 1].clamp_(0, shape0[0])
    boxes[..., 2].clamp_(0, shape0[1])
    boxes[..., 3].clamp_(0, shape0[0])


def crop_sample(samples, name, rng, cw, ch, ow, oh):
    """A random cw x ch crop of a 288x288 sample scaled to ow x oh, and its labels' lines."""
    img = cv2.imread(os.path.join(samples, "images", name + ".jpg"))
    x0, y0 = int(rng.integers(0, 288 - cw + 1)), int(rng.integers(0, 288 - ch + 1))
    crop = cv2.resize(img[y0:y0 + ch, x0:x0 + cw], (ow, oh), interpolation=cv2.INTER_CUBIC)
    rows = []
    for r in read_labels(os.path.join(samples, "labels", name + ".txt")):
        c, cx, cy, w, h = [float(v) for v in r]
        x1, y1 = max(cx - w / 2, 0) * 288 - x0, max(cy - h / 2, 0) * 288 - y0
        x2, y2 = min(cx + w / 2, 1) * 288 - x0, min(cy + h / 2, 1) * 288 - y0
        x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, cw), min(y2, ch)
        if x2 - x1 < 4 or y2 - y1 < 4:
            continue  # cut away
        rows.append("%d %.6f %.6f %.6f %.6f\n" % (c, (x1 + x2) / 2 / cw, (y1 + y2) / 2 / ch,
                                                  (x2 - x1) / cw, (y2 - y1) / ch))
    return crop, rows


def make_set(out, samples):
    """Crops of the sample images (288x288) scaled to many aspect ratios and sizes."""
    rng = np.random.default_rng(614)
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    os.makedirs(os.path.join(out, "labels"), exist_ok=True)
    names = sorted(x[:-4] for x in os.listdir(os.path.join(samples, "images")) if x.endswith(".jpg"))
    # (crop w, crop h, out w, out h): tall, wide, square, one ratio (3:2) at three sizes,
    # shrinking past 640 (INTER_AREA, integer and not) and enlarging
    plan = [(288, 144, 1280, 640), (288, 144, 960, 480), (288, 144, 300, 150), (288, 192, 900, 600),
            (288, 192, 660, 440), (288, 192, 450, 300), (144, 288, 400, 800), (96, 288, 250, 750),
            (288, 96, 1500, 500), (288, 288, 700, 700), (288, 288, 1000, 1000), (288, 288, 200, 200),
            (288, 216, 800, 600), (216, 288, 480, 640), (288, 160, 1333, 740), (160, 288, 700, 1261),
            (288, 72, 2000, 500), (72, 288, 120, 480), (288, 240, 1700, 1417), (240, 288, 350, 420)]
    lines = []
    for k, name in enumerate(names):
        crop, rows = crop_sample(samples, name, rng, *plan[k % len(plan)])
        cv2.imwrite(os.path.join(out, "images", "ar_%02d.jpg" % k), crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
        with open(os.path.join(out, "labels", "ar_%02d.txt" % k), "w") as f:
            f.write("".join(rows))
        lines.append(os.path.join(out, "images", "ar_%02d.jpg" % k))
    # EXIF orientations 5 and 7 (transposed): exif_size keeps the stored sides but cv2.imread
    # turns the image, so its batch shape is computed from the other aspect ratio and letterbox
    # shrinks it into that shape (r < 1).  Labels are of the upright image.
    turns = [(5, Image.Transpose.TRANSPOSE, (144, 288, 300, 600)),
             (7, Image.Transpose.TRANSVERSE, (288, 160, 700, 389))]
    for k, (orient, method, size) in enumerate(turns, len(names)):
        crop, rows = crop_sample(samples, names[k % len(names)], rng, *size)
        stored = Image.fromarray(np.ascontiguousarray(crop[:, :, ::-1])).transpose(method)
        exif = Image.Exif()
        exif[274] = orient
        path = os.path.join(out, "images", "ar_%02d.jpg" % k)
        stored.save(path, quality=95, exif=exif.tobytes())
        assert cv2.imread(path).shape[:2] == crop.shape[:2], "cv2.imread did not turn %s upright" % path
        assert exif_size(path) == stored.size
        with open(os.path.join(out, "labels", "ar_%02d.txt" % k), "w") as f:
            f.write("".join(rows))
        lines.append(path)
    with open(os.path.join(out, "val.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("eval")
    e.add_argument("--weights")
    e.add_argument("--w")
    e.add_argument("--list", required=True)
    e.add_argument("--labels", required=True)
    e.add_argument("--batch-size", type=int, default=32)
    e.add_argument("--imgsz", type=int, default=640)
    e.add_argument("--conf", type=float, default=0.001)
    e.add_argument("--iou", type=float, default=0.6)
    e.add_argument("--max-det", type=int, default=300)
    e.add_argument("--dets", help="score these detections (infer-detect --val -f jsonl), not the network's")
    e.add_argument("--save-dets", help="write the network's detections here as jsonl")
    m = sub.add_parser("make-set")
    m.add_argument("out")
    m.add_argument("--samples", default=os.path.join(HERE, "..", "..", "..", "samples"))
    a = ap.parse_args()
    if a.cmd == "eval":
        if not (a.weights or a.w):
            ap.error("give --weights or --w")
        if a.dets and a.save_dets:
            ap.error("--save-dets writes the network's detections; with --dets there are none")
        evaluate(a)
    else:
        make_set(a.out, a.samples)


if __name__ == "__main__":
    main()
