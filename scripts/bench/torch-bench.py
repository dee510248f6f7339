#!/usr/bin/python3
"""Times PyTorch's forward of a checkpoint, the model loaded by bench_models.py:
torch-bench.py ARCH CKPT THREADS RUNS SIZE -> "ms <milliseconds>" per run (after a warm-up).
ARCH: deeplab-mobilenet | deeplab-xception | yolov5 | encnet | googlenet; input [1,3,SIZE,SIZE]."""
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import bench_models  # noqa: E402


def main():
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    arch, ckpt, threads, runs, size = sys.argv[1:6]
    torch.set_num_threads(int(threads))
    model = bench_models.load(arch, ckpt)
    x = torch.rand(1, 3, int(size), int(size))
    with torch.no_grad():
        model(x)
        for _ in range(int(runs)):
            t0 = time.perf_counter()
            model(x)
            print("ms %.3f" % ((time.perf_counter() - t0) * 1e3), flush=True)


if __name__ == "__main__":
    main()
