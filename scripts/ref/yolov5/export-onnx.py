#!/usr/bin/python3
"""Export a YOLOv5 checkpoint to ONNX for benchmarks.

  export-onnx.py --weights X.pt [--cfg M.yaml] -o model.onnx [--imgsz 640]

BN-folded fp32 model (ema if present), opset 13, fixed input "images"
[1,3,imgsz,imgsz] (RGB, x/255), one output "output0" [1, N, 5+nc] (the decoded
head, as upstream's Detect.export). Checked with onnx/onnxruntime when they
are installed, otherwise only that a non-empty file was written.
"""
import argparse
import os
import sys
import warnings

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import yolo_ref as yr  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--cfg")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--imgsz", type=int, default=640)
    a = ap.parse_args()
    model, _ = yr.load_model(a.weights, a.cfg)
    model = yr.fused_copy(model)
    model.model[-1].export = True
    x = torch.rand(1, 3, a.imgsz, a.imgsz, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = model(x)[0]
        torch.onnx.export(model, x, a.output, opset_version=13, input_names=["images"],
                          output_names=["output0"], do_constant_folding=True)
    size = os.path.getsize(a.output)
    if size == 0:
        print("export-onnx: %s: empty file" % a.output, file=sys.stderr)
        return 1
    msg = "export-onnx: wrote %s (%d bytes, output %s)" % (a.output, size, list(want.shape))
    try:
        import onnxruntime as ort
        got = ort.InferenceSession(a.output, providers=["CPUExecutionProvider"]).run(
            None, {"images": x.numpy()})[0]
        msg += ", onnxruntime max diff %.3g" % float(abs(got - want.numpy()).max())
    except ImportError:
        msg += ", onnxruntime absent: not run"
    print(msg, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
