"""Shared pieces of the YOLOv5 oracle scripts: checkpoint loading as
attempt_load does it, detect.py's letterbox, non_max_suppression and
scale_boxes (re-implemented from /work/shared/notes/yolov5.md)."""
import os
import sys
from copy import deepcopy

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)       # checkpoints pickle models.common / models.yolo

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torchvision  # noqa: E402

from models.yolo import Detect, DetectionModel, Model, make_divisible  # noqa: E402,F401

PHOTOS = "/usr/share/darknet/data"
MAX_WH = 7680        # class offset for batched NMS (v6.1+; v6.0 used 4096)
MAX_NMS = 30000


def load_model(weights, cfg=None, nc=None):
    """Return (fp32 eval model, source) like attempt_load(fuse=False):
    ckpt['ema'] if truthy else ckpt['model']; a bare state_dict needs cfg."""
    obj = torch.load(weights, map_location="cpu")
    if isinstance(obj, nn.Module):
        model, src = obj, "module"
    elif isinstance(obj, dict) and isinstance(obj.get("ema") or obj.get("model"), nn.Module):
        src = "ema" if obj.get("ema") else "model"
        model = obj[src]
    elif isinstance(obj, dict):
        if cfg is None:
            raise SystemExit("%s: a bare state_dict needs --cfg" % weights)
        sd = obj.get("model", obj) if isinstance(obj.get("model"), dict) else obj
        if nc is None:
            det = [k for k in sd if k.endswith(".m.0.weight") and sd[k].dim() == 4]
            na = sd[det[-1].replace(".m.0.weight", ".anchors")].shape[1]
            nc = sd[det[-1]].shape[0] // na - 5
        model = DetectionModel(cfg, nc=nc)
        model.load_state_dict({k: v.float() for k, v in sd.items()})
        src = "state_dict"
    else:
        raise SystemExit("%s: not a YOLOv5 checkpoint" % weights)
    model = model.float().eval()
    # attempt_load's compatibility updates
    for m in model.modules():
        t = type(m)
        if t in (nn.Hardswish, nn.LeakyReLU, nn.ReLU, nn.ReLU6, nn.SiLU, Detect, DetectionModel, Model):
            m.inplace = True
        elif t is nn.Upsample and not hasattr(m, "recompute_scale_factor"):
            m.recompute_scale_factor = None
    if not hasattr(model, "stride"):
        model.stride = torch.tensor([32.0])
    names = getattr(model, "names", None) or [str(i) for i in range(model.model[-1].nc)]
    model.names = dict(names) if isinstance(names, dict) else dict(enumerate(names))
    return model, src


def fused_copy(model):
    return deepcopy(model).fuse().eval()


def letterbox(im, new_shape=(640, 640), color=(114, 114, 114), auto=True, scaleup=True, stride=32):
    """utils/augmentations.letterbox: resize keeping aspect (half-to-even
    rounding), pad to new_shape (or only to a stride multiple if auto); the odd
    pixel of padding goes bottom/right."""
    shape = im.shape[:2]
    if isinstance(new_shape, int):
        new_shape = (new_shape, new_shape)
    r = min(new_shape[0] / shape[0], new_shape[1] / shape[1])
    if not scaleup:
        r = min(r, 1.0)
    new_unpad = int(round(shape[1] * r)), int(round(shape[0] * r))
    dw, dh = new_shape[1] - new_unpad[0], new_shape[0] - new_unpad[1]
    if auto:
        dw, dh = np.mod(dw, stride), np.mod(dh, stride)
    dw /= 2
    dh /= 2
    if shape[::-1] != new_unpad:
        im = cv2.resize(im, new_unpad, interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    return cv2.copyMakeBorder(im, top, bottom, left, right, cv2.BORDER_CONSTANT, value=color)


def to_tensor(lb_bgr):
    """HWC BGR uint8 -> 1x3xHxW RGB float32 / 255 (division, as detect.py)."""
    im = np.ascontiguousarray(lb_bgr.transpose((2, 0, 1))[::-1])
    t = torch.from_numpy(im).float()
    t /= 255
    return t[None]


def xywh2xyxy(x):
    y = x.clone()
    y[:, 0] = x[:, 0] - x[:, 2] / 2
    y[:, 1] = x[:, 1] - x[:, 3] / 2
    y[:, 2] = x[:, 0] + x[:, 2] / 2
    y[:, 3] = x[:, 1] + x[:, 3] / 2
    return y


def xyxy2xywh(x):
    y = x.clone()
    y[:, 0] = (x[:, 0] + x[:, 2]) / 2
    y[:, 1] = (x[:, 1] + x[:, 3]) / 2
    y[:, 2] = x[:, 2] - x[:, 0]
    y[:, 3] = x[:, 3] - x[:, 1]
    return y


def nms_one(p, conf_thres=0.25, iou_thres=0.45, classes=None, agnostic=False,
            multi_label=False, max_det=1000):
    """non_max_suppression for one image; p is (N, 5+nc) decoded head output.
    Returns (n, 6) [x1, y1, x2, y2, conf, cls] in descending conf order.
    Ties: candidate-index order (stable sorts); no wall-clock limit."""
    nc = p.shape[1] - 5
    multi_label = multi_label and nc > 1
    x = p[p[:, 4] > conf_thres].clone()
    if not x.shape[0]:
        return torch.zeros((0, 6))
    x[:, 5:] *= x[:, 4:5]
    box = xywh2xyxy(x[:, :4])
    if multi_label:
        i, j = (x[:, 5:] > conf_thres).nonzero(as_tuple=False).T
        x = torch.cat((box[i], x[i, j + 5, None], j[:, None].float()), 1)
    else:
        conf, j = x[:, 5:].max(1, keepdim=True)
        x = torch.cat((box, conf, j.float()), 1)[conf.view(-1) > conf_thres]
    if classes is not None:
        x = x[(x[:, 5:6] == torch.tensor(classes, dtype=x.dtype)).any(1)]
    if not x.shape[0]:
        return torch.zeros((0, 6))
    if x.shape[0] > MAX_NMS:
        x = x[torch.sort(x[:, 4], descending=True, stable=True)[1][:MAX_NMS]]
    c = x[:, 5:6] * (0 if agnostic else MAX_WH)          # float32 offsets
    keep = torchvision.ops.nms(x[:, :4] + c, x[:, 4], iou_thres)[:max_det]
    return x[keep]


def scale_boxes(img1_shape, boxes, img0_shape):
    """Letterboxed coords -> original image; pad assumed split exactly in half."""
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
