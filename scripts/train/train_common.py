"""What train-deeplab.py and train-yolo.py share: list files, the learning-rate schedule (by
iterations, or by wall time with --minutes) and the seeded batch order."""
import math
import time

import torch


def read_list(path):
    with open(path) as f:
        return [s.strip() for s in f if s.strip()]


class Schedule:
    """Linear warm-up over `warm` iterations, then a cosine from lr down to 2 % of it over
    `iters` iterations or, when `minutes` is set, over that much wall time from start()."""

    def __init__(self, lr, iters, minutes, warm):
        self.lr, self.iters, self.minutes, self.warm = lr, iters, minutes, warm
        self.t_start = time.time()

    def start(self):
        self.t_start = time.time()

    def frac(self, it):
        """Progress through the run."""
        if self.minutes:
            return min(1.0, (time.time() - self.t_start) / (self.minutes * 60))
        return it / self.iters

    def lr_at(self, it):
        if it < self.warm:
            return self.lr * (it + 1) / self.warm
        return self.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * self.frac(it))))

    def out_of_time(self, it):
        """Whether a --minutes run should stop before iteration it."""
        return bool(self.minutes) and self.frac(it) >= 1.0

    def is_last(self, it):
        return self.frac(it + 1) >= 1.0 if self.minutes else it + 1 == self.iters


class Batches:
    """Batches of indices into n samples in a seeded random order, reshuffled when fewer than a
    batch remain."""

    def __init__(self, n, batch, g):
        self.n, self.batch, self.g = n, batch, g
        self.perm = torch.randperm(n, generator=g)
        self.pos = 0

    def next(self):
        if self.pos + self.batch > len(self.perm):
            self.perm = torch.randperm(self.n, generator=self.g)
            self.pos = 0
        idx = self.perm[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return idx
