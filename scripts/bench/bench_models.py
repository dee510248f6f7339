"""Loads the PyTorch models the benchmarks time, with the oracle code of scripts/ref (not a copy):
load(ARCH, CKPT) -> the model in eval mode.  ARCH: encnet | googlenet."""
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
    if arch == "encnet":
        # encnet-predict's loader: mmcv checkpoint, auxiliary head dropped, depth from the keys
        return _module("encnet_predict", "encnet-predict.py").load_model(ckpt)
    if arch == "googlenet":
        # classify-ref builds torchvision's GoogLeNet as the tests convert it (aux heads, transform_input)
        model = _module("classify_ref", "classify-ref.py").build("googlenet")
        model.load_state_dict(torch.load(ckpt, map_location="cpu"))
        return model.eval()
    raise SystemExit("bench_models: unknown arch %s" % arch)
