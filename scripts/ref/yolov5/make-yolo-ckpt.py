#!/usr/bin/python3
"""Build a deterministic, non-trivial YOLOv5 checkpoint in the ultralytics
format (no trained weights exist offline for most configs).

  make-yolo-ckpt.py --cfg CFG.yaml [--nc N] [--seed S] -o OUT.pt
                    [--ema] [--train-extras] [--state-dict]
                    [--model-class DetectionModel|Model] [--calib-size PX]

Steps (one torch thread, so the file depends only on the seed):
 1. build the model from the yaml, random init from the seed; BatchNorm
    weight ~ U(0.3, 0.9), bias ~ N(0, 0.2) (gains near 1 make
    the random net amplify some photos several-fold); attention-block parameters
    randomised so their gates vary (the attention-module tutorial's zero/one inits are trivial);
 2. BatchNorm running statistics measured in one train-mode pass
    (momentum=None) over the 7 darknet photos letterboxed square to
    --calib-size (default 320) plus one noise image;
 3. Detect convs set so that on the photos (detect.py letterbox at 640, fp16
    weights) the raw outputs have chosen spreads: xy/wh logits moderate,
    class logits spread so that several classes win, and one objectness
    offset chosen by a scan so that as many photos as possible (dog, horses
    and person first) keep 3..30 boxes after NMS
    at conf 0.25 / IoU 0.45;
 4. saved as strip_optimizer leaves it: {'epoch': -1, 'best_fitness': None,
    'model': fp16 nn.Module (requires_grad False, eval), 'ema': None,
    'updates': None, 'optimizer': None, 'date': fixed string}. The model
    carries yaml, yaml_file, names (list for Model, dict for DetectionModel),
    nc, hyp, class_weights, stride; Detect carries an fp16 stride and stale
    fp16 grid/anchor_grid lists (84x56 etc., as in real files).

--ema: the real model goes under 'ema' and 'model' holds a decoy (BN
       weights and class rows perturbed), epoch 5, updates 1234, as a
       mid-training last.pt; readers must prefer 'ema'.
--train-extras (with --ema): also best_fitness numpy.float64, an SGD
       optimizer state_dict, 'opt' with pathlib.PosixPath values and 'git'
       (globals outside the model allow-list, as real last.pt files have).
--state-dict: save the bare fp32 state_dict (values equal to the fp16
       checkpoint's) instead, for detect-ref.py --cfg.
"""
import argparse
import glob
import math
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import yolo_ref as yr  # noqa: E402
from models.common import ECAAttention, EffectiveSE, SEAttention, ShuffleAttention  # noqa: E402
from models.yolo import Detect, DetectionModel, Model  # noqa: E402

TARGET_DETS = 8


def photos():
    return sorted(glob.glob(os.path.join(yr.PHOTOS, "*.jpg")))


def randomise(model, g):
    def rn(t, mean, std):
        t.copy_(torch.randn(t.shape, generator=g) * std + mean)

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.6 + 0.3)
                rn(m.bias, 0.0, 0.2)
            elif isinstance(m, SEAttention):
                for lin in (m.fc[0], m.fc[2]):
                    rn(lin.weight, 0.0, 2.0 / math.sqrt(lin.in_features))
            elif isinstance(m, ECAAttention):
                rn(m.conv.weight, 0.3, 0.5)
            elif isinstance(m, EffectiveSE):
                rn(m.fc.weight, 0.0, 3.0 / math.sqrt(m.fc.in_channels))
                rn(m.fc.bias, 0.5, 1.0)
            elif isinstance(m, ShuffleAttention):
                rn(m.cweight, 0.0, 1.0)
                rn(m.cbias, 0.5, 0.5)
                rn(m.sweight, 0.0, 1.0)
                rn(m.sbias, 0.5, 0.5)
                m.gn.weight.copy_(torch.rand(m.gn.weight.shape, generator=g) + 0.5)
                rn(m.gn.bias, 0.0, 0.2)


def calibrate_bn(model, size, g):
    ims = [yr.to_tensor(yr.letterbox(cv2.imread(p), size, auto=False)) for p in photos()]
    ims.append(torch.rand((1, 3, size, size), generator=g))
    batch = torch.cat(ims, 0)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        model(batch)
    for m in bns:
        m.momentum = 0.03
    model.eval()


def head_inputs(model, ims):
    """Detect's input feature maps for each photo (eval mode)."""
    det = model.model[-1]
    got = []
    hook = det.register_forward_pre_hook(lambda mod, inp: got.append([t.clone() for t in inp[0]]))
    with torch.no_grad():
        for im in ims:
            model(im)
    hook.remove()
    return got


def set_head(det, feats, g, nc):
    """Choose each output row's weights so its logits have a target mean/std
    over the photos; objectness mean 0 (shifted later). Every row is made
    orthogonal to the differences between the photos' mean features, so no
    photo gets a global offset (which would give one photo 80 boxes and
    another none)."""
    no, na = det.no, det.na
    with torch.no_grad():
        for i, conv in enumerate(det.m):
            per = [fm[i].flatten(2)[0] for fm in feats]                  # C x P_k
            f = torch.cat(per, 1)
            # scale each channel by its largest deviation, not its std: sparse
            # channels with rare spikes would otherwise give heavy-tailed logits
            mu = f.mean(1)
            sd = (f - mu[:, None]).abs().amax(1) + 1e-3
            # use only the channels whose spread varies least between photos
            # (random nets amplify some photos' contrast several-fold)
            spread = torch.stack([(p - mu[:, None]).abs().amax(1) for p in per], 1)
            ratio = spread.amax(1) / (spread.amin(1) + 1e-3)
            keep = torch.zeros(f.shape[0])
            keep[ratio.argsort()[:max(8, f.shape[0] // 4)]] = 1.0
            w = torch.randn((na * no, f.shape[0]), generator=g) * keep / sd
            dm = torch.stack([p.mean(1) - mu for p in per], 1)             # C x photos
            q, _ = torch.linalg.qr(dm)
            w -= (w @ q) @ q.T
            z = w @ (f - mu[:, None])
            w /= z.std(1, keepdim=True) + 1e-6
            for a in range(na):
                for k in range(no):
                    r = a * no + k
                    if k < 2:
                        std, mean = 1.0, 0.0
                    elif k < 4:
                        std, mean = 0.6, 0.0
                    elif k == 4:
                        std, mean = 1.5, 0.0
                    elif nc == 1:
                        std, mean = 1.0, 1.5
                    else:
                        std, mean = 2.0, float(torch.randn((), generator=g)) * 0.7 - 1.0
                    w[r] *= std
                    conv.bias[r] = mean - float(w[r] @ mu)
            conv.weight.copy_(w.view(conv.weight.shape))


def shift_obj(det, delta):
    with torch.no_grad():
        for conv in det.m:
            conv.bias.view(det.na, det.no)[:, 4] += delta


def count_dets(det, feats, delta):
    """Detections per photo after NMS with the head as saved (fp16)."""
    from copy import deepcopy
    d = deepcopy(det)
    shift_obj(d, delta)
    d = d.half().float().eval()
    d.stride = det.stride.float()
    counts, classes = [], set()
    with torch.no_grad():
        for fm in feats:
            out = yr.nms_one(d([t.clone() for t in fm])[0][0], 0.25, 0.45)
            counts.append(len(out))
            classes.update(int(c) for c in out[:, 5].tolist())
    return counts, classes


def fp16_copy(model):
    """The weights as they will be saved (fp16), back in fp32."""
    from copy import deepcopy
    return deepcopy(model).half().float().eval()


def tune_objectness(det, feats, names):
    """Scan the objectness offset; score = photos with 3..30 boxes (dog,
    horses, person count triple: the tests use them), then closeness of the
    median count to TARGET_DETS. Random nets respond very differently to
    different photos, so one offset cannot suit all seven."""
    weight = [3 if n in ("dog", "horses", "person") else 1 for n in names]
    best = None
    for step in range(-40, 21):
        delta = step * 0.5
        counts, classes = count_dets(det, feats, delta)
        ok = sum(w for w, c in zip(weight, counts) if 3 <= c <= 30)
        med = sorted(counts)[len(counts) // 2]
        key = (ok, -abs(med - TARGET_DETS))
        if best is None or key > best[0]:
            best = (key, delta, counts, classes)
        if med > 60:
            break
    return best[1:]


def names_for(nc):
    if nc == 80:
        with open(os.path.join(yr.PHOTOS, "coco.names")) as f:
            return [s.strip() for s in f if s.strip()][:80]
    return ["object"] if nc == 1 else ["class%d" % i for i in range(nc)]


def decorate(model, nc, as_dict):
    names = names_for(nc)
    model.names = dict(enumerate(names)) if as_dict else names
    model.nc = nc
    model.hyp = {"lr0": 0.01, "momentum": 0.937, "weight_decay": 0.0005, "box": 0.05,
                 "cls": 0.5, "obj": 1.0, "anchor_t": 4.0}
    model.class_weights = torch.ones(nc, dtype=torch.float64) / nc
    det = model.model[-1]
    # stale grids from a last validation batch at 672x448, like real files
    grids = [det._make_grid(448 // int(s), 672 // int(s), i) for i, s in enumerate(det.stride)]
    det.grid = [gr for gr, _ in grids]
    det.anchor_grid = [ag for _, ag in grids]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cfg", required=True)
    ap.add_argument("--nc", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--ema", action="store_true")
    ap.add_argument("--train-extras", action="store_true")
    ap.add_argument("--state-dict", action="store_true")
    ap.add_argument("--model-class", choices=["DetectionModel", "Model"], default="DetectionModel")
    ap.add_argument("--calib-size", type=int, default=320)
    ap.add_argument("--date", default="2024-01-01T00:00:00.000000")
    a = ap.parse_args()

    t0 = time.perf_counter()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    cls = Model if a.model_class == "Model" else DetectionModel
    model = cls(a.cfg, nc=a.nc)
    nc = model.model[-1].nc
    randomise(model, g)
    calibrate_bn(model, a.calib_size, g)
    t1 = time.perf_counter()

    ims = [yr.to_tensor(yr.letterbox(cv2.imread(p), 640, auto=True)) for p in photos()]
    feats = head_inputs(fp16_copy(model), ims)
    set_head(model.model[-1], feats, g, nc)
    # tune on the fp16-rounded model (what readers see); only the head changes
    delta, counts, classes = tune_objectness(model.model[-1], feats,
                                             [os.path.basename(p)[:-4] for p in photos()])
    shift_obj(model.model[-1], delta)
    t2 = time.perf_counter()

    decorate(model, nc, as_dict=(cls is DetectionModel))
    model.eval().requires_grad_(False)
    if a.state_dict:
        torch.save(fp16_copy(model).state_dict(), a.output)
    else:
        ckpt = {"epoch": -1, "best_fitness": None, "model": model.half(), "ema": None,
                "updates": None, "optimizer": None, "date": a.date}
        if a.ema:
            from copy import deepcopy
            decoy = deepcopy(model).float()
            with torch.no_grad():
                for m in decoy.modules():
                    if isinstance(m, nn.BatchNorm2d):
                        m.weight.mul_(torch.rand(m.weight.shape, generator=g) * 0.4 + 0.8)
                for conv in decoy.model[-1].m:
                    b = conv.bias.view(decoy.model[-1].na, -1)
                    b[:, 4] += 1.0
            ckpt.update(epoch=5, model=decoy.half(), ema=model, updates=1234)
            if a.train_extras:
                from pathlib import PosixPath
                opt = torch.optim.SGD(decoy.float().parameters(), lr=0.01, momentum=0.937)
                for p in decoy.parameters():
                    p.grad = torch.full_like(p, 1e-3)
                    p.requires_grad_(False)
                opt.step()
                decoy.half()
                ckpt.update(best_fitness=np.float64(0.4321), optimizer=opt.state_dict(),
                            opt={"weights": PosixPath("yolov5s.pt"), "cfg": a.cfg,
                                 "save_dir": PosixPath("runs/train/exp"), "epochs": 100},
                            git={"remote": "https://github.com/ultralytics/yolov5",
                                 "branch": "master", "commit": "0" * 40})
                for p in decoy.parameters():
                    p.grad = None
        torch.save(ckpt, a.output)
    t3 = time.perf_counter()
    print("make-yolo-ckpt: %s: %s nc=%d seed=%d, dets/photo %s (classes %s), obj shift %.3f; "
          "calib %.1f s, head %.1f s, total %.1f s"
          % (a.output, type(model).__name__, nc, a.seed, counts, sorted(classes), delta,
             t1 - t0, t2 - t1, t3 - t0), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
