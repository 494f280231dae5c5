#!/usr/bin/env python3
"""PyTorch peer of `npm run bench`: the same training step written the way a careful researcher would.

Workload (identical to bench/workload.ts): copy-first-input, input size 1, `layers` stacked cells of
`units`, linear readout on h_T, MSE, one step = forward + full BPTT + Adam. Keras-style initialisation
(glorot kernels, orthogonal recurrent matrices, BRC feedback weights 1, LSTM forget bias 1), because
saturation - and so denormal floats - depends on it.

GRU and LSTM use torch.nn.GRU / torch.nn.LSTM (one module for the stack). BRC and nBRC are written in
the same style: the input projections of all steps in one matmul per layer, the time loop over
`unbind` (indexing seq[t] makes the backward pass quadratic in T).

Prints one JSON object on stdout: {"torch": version, "results": [...], "maxRssMb": ...}.
"""
import argparse
import json
import resource
import statistics
import sys
import time

import torch
from torch import nn


def glorot(rows, cols):
    w = torch.empty(rows, cols)
    nn.init.xavier_uniform_(w)  # same limit sqrt(6 / (fan_in + fan_out)) as Keras
    return w


def orthogonal(rows, cols):
    w = torch.empty(rows, cols)
    nn.init.orthogonal_(w)
    return w


class BRCLayer(nn.Module):
    """BRC (cellular w * h) or nBRC (h W) gates; candidate feedback a * h in both; no candidate bias."""

    def __init__(self, inp, units, neuromodulated):
        super().__init__()
        self.units = units
        self.neuromodulated = neuromodulated
        self.U = nn.Parameter(torch.cat([glorot(inp, units) for _ in range(3)], dim=1))  # [c | a | u]
        if neuromodulated:
            self.W = nn.Parameter(torch.cat([orthogonal(units, units) for _ in range(2)], dim=1))  # [c | a]
        else:
            self.w_c = nn.Parameter(torch.ones(units))
            self.w_a = nn.Parameter(torch.ones(units))
        self.b = nn.Parameter(torch.zeros(2 * units))  # [b_c | b_a]

    def forward(self, x):
        T, B, inp = x.shape
        H = self.units
        p = (x.reshape(T * B, inp) @ self.U).reshape(T, B, 3 * H)  # hoisted input projections
        pc = (p[..., :H] + self.b[:H]).unbind(0)
        pa = (p[..., H:2 * H] + self.b[H:]).unbind(0)
        pu = p[..., 2 * H:].unbind(0)
        h = x.new_zeros(B, H)
        out = []
        for t in range(T):
            if self.neuromodulated:
                r = h @ self.W
                rc, ra = r[:, :H], r[:, H:]
            else:
                rc, ra = self.w_c * h, self.w_a * h
            a = 1 + torch.tanh(pa[t] + ra)
            c = torch.sigmoid(pc[t] + rc)
            h = c * h + (1 - c) * torch.tanh(pu[t] + a * h)
            out.append(h)
        return torch.stack(out)


def keras_init_rnn(module, lstm):
    for name, p in module.named_parameters():
        with torch.no_grad():
            if name.startswith('weight_ih'):
                p.copy_(glorot(p.shape[1], p.shape[0]).t())
            elif name.startswith('weight_hh'):
                gates = p.shape[0] // p.shape[1]
                p.copy_(torch.cat([orthogonal(p.shape[1], p.shape[1]) for _ in range(gates)], dim=1).t())
            elif name.startswith('bias'):
                p.zero_()
                if lstm and name.startswith('bias_ih'):
                    H = p.shape[0] // 4
                    p[H:2 * H] = 1.0  # forget gate (PyTorch order i, f, g, o)


class Net(nn.Module):
    def __init__(self, cell, units, layers):
        super().__init__()
        self.cell = cell
        if cell in ('brc', 'nbrc'):
            self.rnn = nn.ModuleList([BRCLayer(1 if i == 0 else units, units, cell == 'nbrc') for i in range(layers)])
        elif cell == 'gru':
            self.rnn = nn.GRU(1, units, num_layers=layers)
            keras_init_rnn(self.rnn, lstm=False)
        elif cell == 'lstm':
            self.rnn = nn.LSTM(1, units, num_layers=layers)
            keras_init_rnn(self.rnn, lstm=True)
        else:
            raise ValueError(cell)
        self.readout = nn.Linear(units, 1)

    def forward(self, x):
        if isinstance(self.rnn, nn.ModuleList):
            h = x
            for layer in self.rnn:
                h = layer(h)
        else:
            h, _ = self.rnn(x)
        return self.readout(h[-1])


def measure(cell, T, units, layers, batch, warmup, reps, threads, ftz, seed=42):
    torch.set_num_threads(threads)
    torch.set_flush_denormal(ftz)
    torch.manual_seed(seed)
    net = Net(cell, units, layers)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)  # Keras epsilon
    x = torch.randn(T, batch, 1)
    y = x[0].clone()
    step_ms, fwd_ms, cpu_ms = [], [], []
    for i in range(warmup + reps):
        t0 = time.perf_counter()
        c0 = time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        c1 = time.process_time()
        with torch.no_grad():
            net(x)
        t2 = time.perf_counter()
        if i >= warmup:
            step_ms.append((t1 - t0) * 1e3)
            fwd_ms.append((t2 - t1) * 1e3)
            cpu_ms.append((c1 - c0) * 1e3)
    return {
        'cell': cell, 'T': T, 'units': units, 'layers': layers, 'batch': batch,
        'threads': threads, 'ftz': ftz,
        'stepMs': step_ms, 'forwardMs': fwd_ms,
        'stepMedianMs': statistics.median(step_ms), 'forwardMedianMs': statistics.median(fwd_ms),
        'stepCpuMs': statistics.median(cpu_ms),  # all threads; robust to other load on the machine
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cells', default='brc,nbrc,gru,lstm')
    ap.add_argument('--T', type=int, default=300)
    ap.add_argument('--units', type=int, default=100)
    ap.add_argument('--layers', type=int, default=2)
    ap.add_argument('--batch', type=int, default=100)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('--ftz', default='on,off')
    a = ap.parse_args()
    results = []
    for cell in a.cells.split(','):
        for ftz in a.ftz.split(','):
            for threads in [int(t) for t in a.threads.split(',')]:
                results.append(measure(cell, a.T, a.units, a.layers, a.batch, a.warmup, a.reps, threads, ftz == 'on'))
                print(f'[torch_peer] {cell} T={a.T} H={a.units} threads={threads} ftz={ftz}: '
                      f'{results[-1]["stepMedianMs"]:.0f} ms/step', file=sys.stderr, flush=True)
    print(json.dumps({
        'torch': torch.__version__,
        'results': results,
        'maxRssMb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == '__main__':
    main()
