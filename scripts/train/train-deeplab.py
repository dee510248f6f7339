#!/usr/bin/python3
"""Train bubbliiiing's DeepLabV3+ (MobileNetV2, downsample 16) from scratch on
the shapes data set of make-synth-data.py, on the CPU.

  train-deeplab.py [--data build/train/data] [--size 256] [--batch 16]
                   [--crop 160] [--full-frac 0.15]
                   [--iters N | --minutes M] [--init CKPT] [--lr 1e-3] [--threads 2] [--seed 1]
                   [-o build/train/deeplab] [--time-only K]

The network is scripts/ref/deeplab_model.py's DeepLab (imported, the oracle's
module tree, so state_dict keys are upstream's).  Inputs are prepared as the
upstream pipeline does (notes/segmentation.md 1.2): PIL bicubic letterbox onto
gray 128 at SIZE x SIZE, x/255; labels letterboxed with nearest onto 0
(background), 255 ignored.  Augmentation: horizontal and vertical flips, 90
degree turns, and CROP x CROP crops of the letterboxed image (same scale as
at inference, a fraction of the cost; 80 % centred, with jitter, on a random
object pixel so crops hold whole shapes; the last --full-frac of the
iterations use the whole SIZE x SIZE image so the ASPP image-pooling branch
sees whole images).  The generator already varies scale, colour, placement.
Loss: cross-entropy (ignore 255, classes weighted by --class-weights, default
1,3,3,3: objects are ~6 % of the pixels) + 0.5 soft dice over the object
classes.  Adam,
one-cycle style schedule (linear warm-up, cosine decay), weight decay 1e-4.

Every --eval-every iterations and at the end the model is evaluated on val.txt
with the upstream predict path at SIZE (letterbox, softmax, crop, bilinear
resize, argmax) and the best state_dict by mIoU is kept as OUT/best.pth
(torch.save(state_dict), eval-mode BatchNorm statistics); OUT/last.pth is the
last one.  Convert with:

  weightconv -a deeplabv3plus --backbone mobilenet --downsample 16 -n 4 \\
      --size 256x256 --fp16 --names DATA/seg-names.txt OUT/best.pth -o deeplab-shapes.w

--minutes M trains for M minutes of wall time instead of --iters: the
learning-rate schedule and the switch to whole images follow the elapsed
fraction of M, so the run fits a time budget on a shared machine (the
iteration count it reached is printed; the sample order still depends only
on --seed).  --time-only K runs K iterations and prints seconds per iteration.
"""
import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "ref"))
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

import deeplab_model as dm  # noqa: E402
from train_common import Batches, Schedule, read_list  # noqa: E402


def load_split(data, split, size):
    """All images of a split letterboxed to size x size (uint8 NCHW) and labels (N,H,W)."""
    names = read_list(os.path.join(data, split + ".txt"))
    ims = np.empty((len(names), 3, size, size), np.uint8)
    labs = np.empty((len(names), size, size), np.uint8)
    for i, n in enumerate(names):
        im = dm.cvt_color(Image.open(os.path.join(data, "images", n + ".jpg")))
        box, nw, nh = dm.letterbox(im, (size, size))
        ims[i] = np.asarray(box).transpose(2, 0, 1)
        # indices, not palette colours: paste would convert P to L through the palette
        lab = Image.fromarray(np.asarray(Image.open(os.path.join(data, "masks", n + ".png"))))
        lab = lab.resize((nw, nh), Image.NEAREST)
        canvas = Image.new("L", (size, size), 0)
        canvas.paste(lab, ((size - nw) // 2, (size - nh) // 2))
        labs[i] = np.asarray(canvas)
    return names, ims, labs


def augment(x, y, g, crop):
    """Random crop (crop x crop, same scale as inference), flips and quarter
    turns of a batch (x: N,3,H,W; y: N,H,W), per sample."""
    out_x, out_y = [], []
    size = x.shape[-1]
    for i in range(x.shape[0]):
        xi, yi = x[i], y[i]
        if crop < size:
            oy, ox = torch.randint(0, size - crop + 1, (2,), generator=g).tolist()
            obj = ((yi > 0) & (yi < 255)).nonzero()
            if len(obj) and torch.rand((), generator=g).item() < 0.8:
                # centre on an object pixel (jittered): whole shapes, ~4x the object pixels
                cy, cx = obj[torch.randint(0, len(obj), (1,), generator=g).item()].tolist()
                jy, jx = (torch.randint(-crop // 4, crop // 4 + 1, (2,), generator=g)).tolist()
                oy = min(max(cy + jy - crop // 2, 0), size - crop)
                ox = min(max(cx + jx - crop // 2, 0), size - crop)
            xi, yi = xi[:, oy:oy + crop, ox:ox + crop], yi[oy:oy + crop, ox:ox + crop]
        r = torch.randint(0, 8, (1,), generator=g).item()
        if r & 1:
            xi, yi = xi.flip(-1), yi.flip(-1)
        if r & 2:
            xi, yi = xi.flip(-2), yi.flip(-2)
        if r & 4:
            xi, yi = xi.transpose(-1, -2), yi.transpose(-1, -2)
        out_x.append(xi)
        out_y.append(yi)
    return torch.stack(out_x), torch.stack(out_y)


def dice_loss(logits, y, nc):
    valid = (y != 255)
    p = logits.softmax(1) * valid[:, None]
    t = F.one_hot(torch.where(valid, y, torch.zeros_like(y)).long(), nc).permute(0, 3, 1, 2)
    t = t * valid[:, None]
    inter = (p * t).sum((0, 2, 3))
    den = p.sum((0, 2, 3)) + t.sum((0, 2, 3))
    return 1 - ((2 * inter + 1) / (den + 1))[1:].mean()


def predict_miou(model, data, names, size, nc):
    """Upstream predict on each val image, mIoU (upstream rule) over the set."""
    model.eval()
    hist = np.zeros((nc, nc), np.int64)
    with torch.no_grad():
        for n in names:
            im = dm.cvt_color(Image.open(os.path.join(data, "images", n + ".jpg")))
            iw, ih = im.size
            box, nw, nh = dm.letterbox(im, (size, size))
            x = torch.from_numpy(dm.preprocess(box))
            pr = model(x)[0].permute(1, 2, 0).softmax(-1).numpy()
            top, left = (size - nh) // 2, (size - nw) // 2
            pr = pr[top:top + nh, left:left + nw]
            pr = cv2.resize(pr, (iw, ih), interpolation=cv2.INTER_LINEAR).argmax(-1)
            gt = np.asarray(Image.open(os.path.join(data, "masks", n + ".png")))
            k = gt < nc
            hist += np.bincount(nc * gt[k].astype(int) + pr[k], minlength=nc * nc).reshape(nc, nc)
    iou = np.diag(hist) / np.maximum(hist.sum(0) + hist.sum(1) - np.diag(hist), 1)
    model.train()
    return float(iou.mean()), iou


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="build/train/data")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=160)
    ap.add_argument("--full-frac", type=float, default=0.15)
    ap.add_argument("--iters", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=0,
                    help="train for this wall time instead of --iters (schedule by elapsed time)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--class-weights", default="1,3,3,3",
                    help="cross-entropy weight of each class, comma-separated")
    ap.add_argument("--init", help="start from this state_dict (a continued run)")
    ap.add_argument("--time-only", type=int, default=0)
    ap.add_argument("-o", "--out", default="build/train/deeplab")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    cv2.setNumThreads(1)
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    seg_names = read_list(os.path.join(a.data, "seg-names.txt"))
    nc = len(seg_names)
    t0 = time.time()
    _, xs, ys = load_split(a.data, "train", a.size)
    val_names = read_list(os.path.join(a.data, "val.txt"))
    print("train-deeplab: %d training images loaded in %.0f s" % (len(xs), time.time() - t0),
          file=sys.stderr, flush=True)
    xs = torch.from_numpy(xs)
    ys = torch.from_numpy(ys)
    # objects cover ~6 % of the pixels: weight their classes up so the shapes get learned
    cw = torch.tensor([float(v) for v in a.class_weights.split(",")])
    if len(cw) != nc:
        sys.exit("train-deeplab: --class-weights: %d values for %d classes" % (len(cw), nc))
    model = dm.DeepLab(nc, backbone="mobilenet", downsample_factor=16)
    if a.init:
        model.load_state_dict(torch.load(a.init))
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=1e-4)
    iters = a.time_only or (10 ** 9 if a.minutes else a.iters)
    sched = Schedule(a.lr, iters, a.minutes, 50 if a.minutes else max(1, min(100, iters // 20)))

    os.makedirs(a.out, exist_ok=True)
    best = -1.0
    batches = Batches(len(xs), a.batch, g)
    sched.start()
    run_loss = 0.0
    for it in range(iters):
        if sched.out_of_time(it):
            break
        idx = batches.next()
        crop = a.size if sched.frac(it) >= 1 - a.full_frac else a.crop
        x, y = augment(xs[idx], ys[idx], g, crop)
        x = x.float() / 255.0
        for pg in opt.param_groups:
            pg["lr"] = sched.lr_at(it)
        logits = model(x)
        loss = (F.cross_entropy(logits, y.long(), weight=cw, ignore_index=255) +
                0.5 * dice_loss(logits, y, nc))
        opt.zero_grad()
        loss.backward()
        opt.step()
        run_loss = loss.item() if it == 0 else 0.95 * run_loss + 0.05 * loss.item()
        if a.time_only:
            if it == 1:
                sched.start()
            continue
        if (it + 1) % 20 == 0:
            el = time.time() - sched.t_start
            print("train-deeplab: it %d loss %.4f lr %.2e crop %d  %.2f s/it, %.0f%% done"
                  % (it + 1, run_loss, sched.lr_at(it), crop, el / (it + 1), 100 * sched.frac(it)),
                  file=sys.stderr, flush=True)
        if (it + 1) % a.eval_every == 0 or sched.is_last(it):
            miou, iou = predict_miou(model, a.data, val_names, a.size, nc)
            print("train-deeplab: it %d val mIoU %.4f (%s)" % (it + 1, miou,
                  " ".join("%s %.4f" % (n, v) for n, v in zip(seg_names, iou))),
                  file=sys.stderr, flush=True)
            model.eval()
            torch.save(model.state_dict(), os.path.join(a.out, "last.pth"))
            if miou > best:
                best = miou
                torch.save(model.state_dict(), os.path.join(a.out, "best.pth"))
            model.train()
    if a.time_only:
        print("train-deeplab: size %d batch %d threads %d: %.3f s/iter" % (
            a.size, a.batch, a.threads, (time.time() - sched.t_start) / max(1, iters - 2)))
        return 0
    print("train-deeplab: done in %.1f min, best val mIoU %.4f" % ((time.time() - t0) / 60, best),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
