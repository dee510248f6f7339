#!/usr/bin/python3
"""Export a DeepLabV3+ checkpoint to ONNX (opset 13) for benchmarks.

  export-onnx.py --ckpt X.pth --backbone mobilenet|xception --downsample 8|16
                 -n N -o model.onnx [--size 512]

Input "images" [1,3,size,size] float32 (x/255, RGB), output "logits"
[1,N,size,size]. If the onnx or onnxruntime packages are installed the file
is checked (onnx.checker) and run against PyTorch; otherwise only the export
itself is verified (non-empty file).
"""
import argparse
import os
import sys
import warnings

import torch

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deeplab_model import DeepLab  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--backbone", required=True, choices=["mobilenet", "xception"])
    ap.add_argument("--downsample", type=int, default=16, choices=[8, 16])
    ap.add_argument("-n", "--num-classes", type=int, default=21)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()

    model = DeepLab(a.num_classes, a.backbone, a.downsample)
    model.load_state_dict(torch.load(a.ckpt, map_location="cpu"))
    model.eval()
    x = torch.rand(1, 3, a.size, a.size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), warnings.catch_warnings():
        # torch 1.13 warns about prim::Constant shape inference; harmless here
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(model, x, a.output, opset_version=13,
                          input_names=["images"], output_names=["logits"],
                          do_constant_folding=True)
    size = os.path.getsize(a.output)
    if size == 0:
        print("export-onnx: %s: empty file" % a.output, file=sys.stderr)
        return 1
    msg = "export-onnx: wrote %s (%d bytes)" % (a.output, size)
    try:
        import onnx
        onnx.checker.check_model(onnx.load(a.output))
        msg += ", onnx.checker ok"
    except ImportError:
        msg += ", onnx package absent: not checked"
    try:
        import numpy as np
        import onnxruntime as ort
        sess = ort.InferenceSession(a.output, providers=["CPUExecutionProvider"])
        got = sess.run(None, {"images": x.numpy()})[0]
        with torch.no_grad():
            want = model(x).numpy()
        d = float(np.abs(got - want).max())
        msg += ", onnxruntime max abs diff %.3g" % d
    except ImportError:
        msg += ", onnxruntime absent: not run"
    print(msg, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
