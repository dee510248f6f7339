#!/usr/bin/python3
"""Times PyTorch's forward of the DeepLabV3+ checkpoint:
torch-bench.py CKPT BACKBONE DOWNSAMPLE THREADS RUNS -> "ms <milliseconds>" per run (after a warm-up)."""
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ref"))
import torch  # noqa: E402
from deeplab_model import DeepLab  # noqa: E402


def main():
    ckpt, backbone, ds, threads, runs = sys.argv[1:6]
    torch.set_num_threads(int(threads))
    model = DeepLab(21, backbone=backbone, downsample_factor=int(ds))
    model.load_state_dict(torch.load(ckpt, map_location="cpu"))
    model.eval()
    x = torch.rand(1, 3, 512, 512)
    with torch.no_grad():
        model(x)
        for _ in range(int(runs)):
            t0 = time.perf_counter()
            model(x)
            print("ms %.3f" % ((time.perf_counter() - t0) * 1e3), flush=True)


if __name__ == "__main__":
    main()
