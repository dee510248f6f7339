#!/usr/bin/python3
"""Train YOLOv5n from scratch on the shapes data set of make-synth-data.py, on
the CPU, and save an ultralytics-format checkpoint.

  train-yolo.py [--data build/train/data] [--size 320] [--batch 16]
                [--iters N | --minutes M] [--init CKPT] [--cls-gain 0.5] [--lr 1e-3] [--threads 2] [--seed 1]
                [-o build/train/yolo] [--time-only K]

The model is scripts/ref/yolov5/models' DetectionModel built from
scripts/ref/yolov5/cfg/yolov5n.yaml with nc = the number of det-names.txt
lines.  Images are letterboxed square to SIZE as val.py/detect.py do
(OpenCV INTER_LINEAR, gray 114, no mosaic), x/255, RGB; augmentation:
horizontal and vertical flips and transposes (the generator already varies
everything else).  Loss: yolo_loss.YoloLoss (CIoU box, IoU-target objectness,
class BCE, level balance 4/1/0.4, anchor_t 4.0; gains box 0.05, obj 1.0 x
(size/640)^2, cls --cls-gain, not scaled by nc/80 as train.py does, which
leaves 3 classes almost no class gradient in a short run).  Adam with linear warm-up and cosine
decay; an exponential moving average of the weights (ModelEMA's ramped decay)
is what gets saved.

Saved to OUT/best.pt as make-yolo-ckpt.py saves (its decorate() is imported:
yaml, names, hyp, stride, stale grids; fp16 model; strip_optimizer layout),
with the class names of det-names.txt.  Convert with:

  weightconv OUT/best.pt --fp16 --size 320x320 -o yolov5n-shapes.w

--minutes M trains for M minutes of wall time instead of --iters (the
learning-rate schedule follows the elapsed fraction of M, so the run fits a
time budget on a shared machine; the sample order depends only on --seed).
--time-only K runs K iterations and prints seconds per iteration.
"""
import argparse
import importlib.util
import math
import os
import sys
import time
from copy import deepcopy

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
YOLO_DIR = os.path.join(HERE, "..", "ref", "yolov5")
sys.path.insert(0, YOLO_DIR)
sys.path.insert(0, HERE)
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import yolo_ref as yr  # noqa: E402
from models.yolo import DetectionModel  # noqa: E402
from train_common import Batches, Schedule, read_list  # noqa: E402
from yolo_loss import YoloLoss  # noqa: E402


def ckpt_module():
    """scripts/ref/yolov5/make-yolo-ckpt.py (a hyphenated name) as a module."""
    spec = importlib.util.spec_from_file_location("make_yolo_ckpt",
                                                  os.path.join(YOLO_DIR, "make-yolo-ckpt.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_train(data, size):
    """Letterboxed RGB images (N,3,S,S uint8) and targets [(cls, cx, cy, w, h)] in
    letterboxed normalised coordinates."""
    names = read_list(os.path.join(data, "train.txt"))
    ims = np.empty((len(names), 3, size, size), np.uint8)
    labels = []
    for i, n in enumerate(names):
        im = cv2.imread(os.path.join(data, "images", n + ".jpg"))
        h0, w0 = im.shape[:2]
        lb = yr.letterbox(im, size, auto=False)
        ims[i] = lb[:, :, ::-1].transpose(2, 0, 1)
        r = min(size / h0, size / w0)
        nw, nh = int(round(w0 * r)), int(round(h0 * r))
        left, top = int(round((size - nw) / 2 - 0.1)), int(round((size - nh) / 2 - 0.1))
        rows = np.loadtxt(os.path.join(data, "labels", n + ".txt"), ndmin=2).reshape(-1, 5)
        t = rows.copy()
        t[:, 1] = (rows[:, 1] * nw + left) / size
        t[:, 2] = (rows[:, 2] * nh + top) / size
        t[:, 3] = rows[:, 3] * nw / size
        t[:, 4] = rows[:, 4] * nh / size
        labels.append(torch.from_numpy(t).float())
    return torch.from_numpy(ims), labels


def batch(ims, labels, idx, g):
    xs, ts = [], []
    for j, i in enumerate(idx.tolist()):
        x, t = ims[i], labels[i].clone()
        r = torch.randint(0, 8, (1,), generator=g).item()
        if r & 1:
            x = x.flip(-1)
            t[:, 1] = 1 - t[:, 1]
        if r & 2:
            x = x.flip(-2)
            t[:, 2] = 1 - t[:, 2]
        if r & 4:
            x = x.transpose(-1, -2)
            t = t[:, [0, 2, 1, 4, 3]]
        xs.append(x)
        ts.append(torch.cat((torch.full((len(t), 1), float(j)), t), 1))
    return torch.stack(xs).float() / 255.0, torch.cat(ts, 0)


class Ema:
    """Exponential moving average of the weights and buffers, decay ramped up
    as ModelEMA does (d = decay * (1 - exp(-updates / tau)))."""

    def __init__(self, model, decay=0.999, tau=200):
        self.ema = deepcopy(model).eval()
        self.decay, self.tau, self.updates = decay, tau, 0
        for p in self.ema.parameters():
            p.requires_grad_(False)

    def update(self, model):
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        msd = model.state_dict()
        with torch.no_grad():
            for k, v in self.ema.state_dict().items():
                if v.dtype.is_floating_point:
                    v.mul_(d).add_(msd[k].detach(), alpha=1 - d)


def save(mod, model, names, path, epoch):
    model = deepcopy(model).eval()
    mod.decorate(model, len(names), as_dict=True)
    model.names = dict(enumerate(names))
    model.requires_grad_(False)
    ckpt = {"epoch": epoch, "best_fitness": None, "model": model.half(), "ema": None,
            "updates": None, "optimizer": None, "date": "2024-01-01T00:00:00.000000"}
    tmp = path + ".tmp"
    torch.save(ckpt, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="build/train/data")
    ap.add_argument("--cfg", default=os.path.join(YOLO_DIR, "cfg", "yolov5n.yaml"))
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--iters", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=0,
                    help="train for this wall time instead of --iters (schedule by elapsed time)")
    ap.add_argument("--cls-gain", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument("--init", help="start from the model of this checkpoint (a continued run)")
    ap.add_argument("--time-only", type=int, default=0)
    ap.add_argument("-o", "--out", default="build/train/yolo")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    cv2.setNumThreads(1)
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    names = read_list(os.path.join(a.data, "det-names.txt"))
    nc = len(names)
    mod = ckpt_module()
    t0 = time.time()
    ims, labels = load_train(a.data, a.size)
    print("train-yolo: %d training images loaded in %.0f s" % (len(ims), time.time() - t0),
          file=sys.stderr, flush=True)
    model = DetectionModel(a.cfg, nc=nc)
    if a.init:
        model.load_state_dict(torch.load(a.init)["model"].float().state_dict())
    model.train()
    nl = model.model[-1].nl
    # train.py's scaling of the loss gains to the image size and levels; the class gain is not
    # scaled by nc/80 (that makes it 0.019 for 3 classes, too weak to learn the shapes in a
    # short run)
    hyp = {"box": 0.05 * 3 / nl, "cls": a.cls_gain * 3 / nl,
           "obj": 1.0 * (a.size / 640) ** 2 * 3 / nl, "anchor_t": 4.0}
    loss_fn = YoloLoss(model, hyp)
    decay, no_decay = [], []
    for n_, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.Adam([{"params": decay, "weight_decay": 5e-4},
                            {"params": no_decay, "weight_decay": 0.0}], lr=a.lr, betas=(0.937, 0.999))
    iters = a.time_only or (10 ** 9 if a.minutes else a.iters)
    ema = Ema(model, tau=50 if a.minutes else max(20, iters // 15))
    sched = Schedule(a.lr, iters, a.minutes, 50 if a.minutes else max(1, min(150, iters // 15)))

    os.makedirs(a.out, exist_ok=True)
    batches = Batches(len(ims), a.batch, g)
    run = None
    sched.start()
    for it in range(iters):
        if sched.out_of_time(it):
            break
        x, tg = batch(ims, labels, batches.next(), g)
        for pg in opt.param_groups:
            pg["lr"] = sched.lr_at(it)
        preds = model(x)
        loss, parts = loss_fn(preds, tg)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        ema.update(model)
        run = parts if run is None else 0.95 * run + 0.05 * parts
        if a.time_only:
            if it == 1:
                sched.start()
            continue
        if (it + 1) % 20 == 0:
            el = time.time() - sched.t_start
            print("train-yolo: it %d box %.4f obj %.4f cls %.4f lr %.2e  %.2f s/it, %.0f%% done"
                  % (it + 1, run[0], run[1], run[2], sched.lr_at(it), el / (it + 1), 100 * sched.frac(it)),
                  file=sys.stderr, flush=True)
        if (it + 1) % a.save_every == 0 or sched.is_last(it):
            save(mod, ema.ema, names, os.path.join(a.out, "best.pt"), it + 1)
    if a.time_only:
        print("train-yolo: size %d batch %d threads %d: %.3f s/iter" % (
            a.size, a.batch, a.threads, (time.time() - sched.t_start) / max(1, iters - 2)))
        return 0
    print("train-yolo: done in %.1f min" % ((time.time() - t0) / 60), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
