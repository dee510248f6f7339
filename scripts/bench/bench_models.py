"""Loads the PyTorch models the benchmarks time, with the oracle code of scripts/ref (not a copy):
load(ARCH, CKPT) -> the model in eval mode.
ARCH: deeplab-mobilenet | deeplab-xception (21 classes, downsample 16) | yolov5 (as detect.py runs
it: fp32, BatchNorm fused) | encnet | googlenet."""
import importlib.util
import os
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ref")
sys.path.insert(0, REF)


def _module(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REF, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load(arch, ckpt):
    import torch
    if arch in ("deeplab-mobilenet", "deeplab-xception"):
        from deeplab_model import DeepLab
        model = DeepLab(21, backbone=arch.split("-")[1], downsample_factor=16)
        model.load_state_dict(torch.load(ckpt, map_location="cpu"))
        return model.eval()
    if arch == "yolov5":
        sys.path.insert(0, os.path.join(REF, "yolov5"))
        import yolo_ref
        return yolo_ref.fused_copy(yolo_ref.load_model(ckpt)[0])
    if arch == "encnet":
        # encnet-predict's loader: mmcv checkpoint, auxiliary head dropped, depth from the keys
        return _module("encnet_predict", "encnet-predict.py").load_model(ckpt)
    if arch == "googlenet":
        # classify-ref builds torchvision's GoogLeNet as the tests convert it (aux heads, transform_input)
        model = _module("classify_ref", "classify-ref.py").build("googlenet")
        model.load_state_dict(torch.load(ckpt, map_location="cpu"))
        return model.eval()
    raise SystemExit("bench_models: unknown arch %s" % arch)
