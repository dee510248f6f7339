#!/usr/bin/python3
"""Exports an EncNet or GoogLeNet checkpoint to ONNX (opset 13) for the benchmarks, from the same
PyTorch model the other engines run:  export-onnx-net.py ARCH CKPT SIZE OUT.onnx
Input "images" [1,3,SIZE,SIZE] float32 (normalised); EncNet outputs the segmentation logits at
1/8 scale and the SE-loss logits, GoogLeNet its class logits (eval mode: no aux heads)."""
import os
import sys
import warnings

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import bench_models  # noqa: E402


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    arch, ckpt, size, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    model = bench_models.load(arch, ckpt)
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    names = ["logits", "scene"] if arch == "encnet" else ["logits"]
    tmp = out + ".tmp"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # torch 1.13 shape-inference chatter
        torch.onnx.export(model, x, tmp, opset_version=13, input_names=["images"], output_names=names,
                          do_constant_folding=True)
    if os.path.getsize(tmp) == 0:
        raise SystemExit("export-onnx-net: %s: empty file" % out)
    os.replace(tmp, out)   # never a partial model: bench.py skips the export when OUT exists
    print("export-onnx-net: wrote %s (%d bytes)" % (out, os.path.getsize(out)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
