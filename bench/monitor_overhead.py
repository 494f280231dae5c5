"""Overhead of rnn_memory_lens.Monitor on a typical user's training step (issue 13's target: under 5 %).

2 x 128 nn.GRU, T = 100, batch 64, CPU, Adam on copy-first-input. Blocks of steps without and with the
Monitor (log() every step, a snapshot every `every` steps, the heartbeat thread) alternate in one process, so
machine load affects both alike; the overhead is the ratio of the summed block times. Prints one JSON line.

python bench/monitor_overhead.py [--blocks 6] [--block-steps 100] [--every 200]
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from rnn_memory_lens import Monitor  # noqa: E402


class UserModel(torch.nn.Module):
    def __init__(self, n_hidden=128):
        super().__init__()
        self.rnn = torch.nn.GRU(1, n_hidden, num_layers=2, batch_first=True)
        self.out = torch.nn.Linear(n_hidden, 1)

    def forward(self, x):
        return self.out(self.rnn(x)[0][:, -1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--blocks", type=int, default=6)
    p.add_argument("--block-steps", type=int, default=100)
    p.add_argument("--every", type=int, default=200)
    a = p.parse_args()
    torch.manual_seed(0)
    model = UserModel()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    T, B = 100, 64

    def step():
        x = torch.zeros(B, T, 1)
        x[:, 0, 0] = torch.randn(B)
        loss = torch.mean((model(x)[:, 0] - x[:, 0, 0]) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    for _ in range(10):  # warm-up: allocator, thread pool
        step()
    tmp = tempfile.mkdtemp(prefix="monitor-bench-")
    plain = monitored = 0.0
    n = 0
    try:
        with Monitor(os.path.join(tmp, "run"), model, every=a.every, model_args={"n_hidden": 128}) as mon:
            for _ in range(a.blocks):
                t0 = time.perf_counter()
                for _ in range(a.block_steps):
                    step()
                plain += time.perf_counter() - t0
                t0 = time.perf_counter()
                for _ in range(a.block_steps):
                    n += 1
                    mon.log(n, loss=step())
                monitored += time.perf_counter() - t0
        snapshots = len(os.listdir(os.path.join(tmp, "run", "snapshots")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    steps = a.blocks * a.block_steps
    print(json.dumps({
        "plainMsPerStep": 1000 * plain / steps,
        "monitoredMsPerStep": 1000 * monitored / steps,
        "overhead": monitored / plain - 1,
        "steps": steps,
        "every": a.every,
        "snapshotsKept": snapshots,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
