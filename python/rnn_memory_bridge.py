"""RNN Memory Lens <-> PyTorch bridge: runs the user's own model in the user's Python.

Spoken on stdin/stdout, one message per request: a JSON header line, then the raw bytes of the arrays it
lists in "buffers" ([{"name", "dtype": "f4"|"f8", "shape"}], little-endian, in order). Answers have the same
form; a failure is {"error": "one line"}. With RNN_MEMORY_BRIDGE_FILES=DIR (two files the caller created
there, opened here at start and then unlinked by the caller), a header with "file": true says its arrays
are at the start of DIR/request.bin (requests) or DIR/answer.bin (answers) instead of on the pipe. Imports only torch and the standard library. The user's code may
print: fd 1 is moved to stderr before it runs, the protocol keeps its own copy of the original stdout.
"""
import importlib.util
import json
import os
import struct
import sys
import traceback

sys.dont_write_bytecode = True  # leave no __pycache__ in the user's project
PROTO_OUT = os.fdopen(os.dup(1), "wb", buffering=0)
os.dup2(2, 1)
sys.stdout = sys.stderr
PROTO_IN = sys.stdin.buffer

MIN_TORCH = (2, 0)
DISCOVERY_T = 5
DISCOVERY_B = 2
FILE_MIN_BYTES = 1 << 16  # smaller answers go on the pipe
GATE_STORE_BYTES = int(float(os.environ.get("RNN_MEMORY_GATE_STORE_MB") or 256) * (1 << 20))


class BridgeError(Exception):
    """A failure whose message is already the one line the user sees."""


# ---------------------------------------------------------------- framing

def read_exact(n, src):
    """n bytes into one writable buffer (torch.frombuffer then uses it without a copy)."""
    buf = bytearray(n)
    view, o = memoryview(buf), 0
    while o < n:
        got = src.readinto(view[o:])
        if not got:
            raise EOFError
        o += got
    return buf


def read_message():
    line = PROTO_IN.readline()
    if not line:
        raise EOFError
    header = json.loads(line)
    specs = header.get("buffers", [])
    sizes = [(8 if s["dtype"] == "f8" else 4) * prod(s["shape"]) for s in specs]
    if header.get("file"):
        FILES[0].seek(0)
    raw = memoryview(read_exact(sum(sizes), FILES[0] if header.get("file") else PROTO_IN))
    arrays, o = {}, 0
    for spec, n in zip(specs, sizes):
        arrays[spec["name"]] = (raw[o:o + n], spec["dtype"], spec["shape"])
        o += n
    return header, arrays


def prod(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def open_files():
    """The request/answer files of RNN_MEMORY_BRIDGE_FILES: one write and one read per large array instead
    of a pipe's 64 KiB-1 MiB chunks, each of which waits for the other process to be scheduled."""
    d = os.environ.get("RNN_MEMORY_BRIDGE_FILES")
    if not d:
        return None
    try:
        return open(os.path.join(d, "request.bin"), "rb", buffering=0), open(os.path.join(d, "answer.bin"), "r+b", buffering=0)
    except OSError:
        return None  # the pipe carries everything


def write_message(header, arrays=()):
    """arrays: [(name, tensor)]; tensors go out as float32 unless they are float64."""
    specs, blobs = [], []
    for name, t in arrays:
        t = t.detach()
        dt = "f8" if t.dtype == torch.float64 else "f4"
        t = t.to(device="cpu", dtype=torch.float64 if dt == "f8" else torch.float32).contiguous()
        specs.append({"name": name, "dtype": dt, "shape": list(t.shape)})
        # The tensor's own memory, not a copy of it (answers are up to tens of MB).
        blobs.append(memoryview(t.numpy()).cast("B") if HAVE_NUMPY else memoryview(tensor_bytes(t)))
    header = dict(header, buffers=specs)
    if FILES and sum(len(b) for b in blobs) >= FILE_MIN_BYTES:
        FILES[1].seek(0)
        for b in blobs:
            write_all(FILES[1], b)
        header["file"] = True
        blobs = []
    write_all(PROTO_OUT, json.dumps(header).encode() + b"\n")
    for b in blobs:
        write_all(PROTO_OUT, b)


def write_all(dst, data):
    view = memoryview(data)
    while len(view):
        view = view[dst.write(view):]


def widen_pipes():
    """A Linux pipe holds 64 KiB: an 8 MB answer then takes ~120 wake-ups of the reader, each a scheduler wait on
    a loaded machine (measured: half the time of a large forward). 1 MiB is the unprivileged maximum."""
    try:
        import fcntl
    except ImportError:
        return
    for fd in (PROTO_IN.fileno(), PROTO_OUT.fileno()):
        try:
            fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ
        except OSError:
            pass  # not a pipe, not Linux, or a lower limit: the default size works, slower


def tensor_bytes(t):
    fmt = "<%d%s" % (t.numel(), "d" if t.dtype == torch.float64 else "f")
    return struct.pack(fmt, *t.flatten().tolist())


def to_tensor(entry, dtype, device):
    raw, dt, shape = entry
    src = torch.float64 if dt == "f8" else torch.float32
    t = torch.frombuffer(raw, dtype=src) if raw else torch.zeros(0, dtype=src)
    return t.reshape(shape).to(device=device, dtype=dtype)


# ---------------------------------------------------------------- loading the user's model

def user_error(e, path):
    """file:line: Type: message of an exception, at the innermost frame inside the user's file."""
    frames = traceback.extract_tb(e.__traceback__)
    real = os.path.realpath(path)
    mine = [f for f in frames if os.path.realpath(f.filename) == real]
    where = mine[-1] if mine else (frames[-1] if frames else None)
    if isinstance(e, SyntaxError) and e.filename:
        return "%s:%s: SyntaxError: %s" % (e.filename, e.lineno, e.msg)
    msg = " ".join(str(e).split())
    loc = "%s:%d: " % (where.filename, where.lineno) if where else ""
    return "%s%s: %s" % (loc, type(e).__name__, msg)


def load_factory(path, name):
    if not os.path.isfile(path):
        raise BridgeError("model file not found: %s" % path)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location("rnn_memory_user_model", path)
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except Exception as e:  # noqa: BLE001 - the user's file, reported as file:line
        raise BridgeError(user_error(e, path))
    if not hasattr(mod, name):
        defined = sorted(k for k, v in vars(mod).items() if callable(v) and not k.startswith("_") and getattr(v, "__module__", None) == mod.__name__)
        raise BridgeError("%s defines no %s (it defines: %s)" % (path, name, ", ".join(defined) or "nothing callable"))
    return getattr(mod, name)


def read_safetensors(path):
    """The safetensors format by hand (8-byte header length, JSON header, raw data), for when the package is absent."""
    dtypes = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
              "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise BridgeError("%s: not a safetensors file (too short)" % path)
    (n,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + n])
    except ValueError:
        raise BridgeError("%s: not a safetensors file (bad header)" % path)
    base = 8 + n
    out = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        if info["dtype"] not in dtypes:
            raise BridgeError("%s: tensor %s has unsupported dtype %s" % (path, key, info["dtype"]))
        a, b = info["data_offsets"]
        buf = bytearray(data[base + a:base + b])
        t = torch.frombuffer(buf, dtype=dtypes[info["dtype"]]) if buf else torch.zeros(0, dtype=dtypes[info["dtype"]])
        out[key] = t.reshape(info["shape"])
    return out


def load_weights(path):
    if not os.path.isfile(path):
        raise BridgeError("weights file not found: %s" % path)
    if path.endswith(".safetensors"):
        try:
            from safetensors.torch import load_file
        except ImportError:
            return read_safetensors(path)
        return load_file(path)
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        raise BridgeError("cannot read weights %s: %s" % (path, " ".join(str(e).split())[:400]))
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    if not isinstance(sd, dict):
        raise BridgeError("weights %s hold a %s, not a state dict" % (path, type(sd).__name__))
    return sd


# ---------------------------------------------------------------- cells: output structure

def split_output(out):
    """(h, state passed to the next step, gates dict) of one cell call, or None when it is not cell-like."""
    if torch.is_tensor(out):
        return out, out, {}
    if isinstance(out, (tuple, list)) and out and torch.is_tensor(out[0]):
        rest = list(out)
        gates = {}
        if isinstance(rest[-1], dict):
            gates = rest.pop()
        state = rest[0] if len(rest) == 1 else tuple(rest)
        return out[0], state, gates
    return None


def flat_tensors(obj):
    if torch.is_tensor(obj):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in flat_tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in flat_tensors(o)]
    return []


def same(a, b):
    return a is b or (a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b))


class Layer:
    def __init__(self, name, module, units, state_shapes, tuple_state, gate_names):
        self.name, self.module, self.units = name, module, units
        self.state_shapes = state_shapes  # per state tensor: its trailing size (state row = their concatenation)
        self.tuple_state = tuple_state
        self.gate_names = gate_names
        # A second state tensor (the c of an (h, c) cell) is shown as the gate "cell", like the built-in LSTM,
        # so that states [B, 2H] can be packed as (h, c) for single-step evaluation.
        self.cell_trace = tuple_state and len(state_shapes) == 2 and "cell" not in gate_names

    def state_size(self):
        return sum(self.state_shapes)

    def unpack(self, flat):
        """[B, S] -> the structure the cell takes."""
        parts, o = [], 0
        for n in self.state_shapes:
            parts.append(flat[:, o:o + n])
            o += n
        return tuple(parts) if self.tuple_state else parts[0]


def gate_arrays(gates):
    """The answer's arrays of per-step gates {name: T tensors [B, H]}: "gate:<name>" [T, B, H] each."""
    return [("gate:" + g, torch.stack(v)) for g, v in gates.items()]


class Bridge:
    def __init__(self, opts):
        path, name = opts["file"], opts["name"]
        self.path = path
        factory = load_factory(path, name)
        try:
            model = factory(**opts.get("args", {}))
        except Exception as e:  # noqa: BLE001
            raise BridgeError(user_error(e, path))
        if not isinstance(model, torch.nn.Module):
            raise BridgeError("%s:%s returned a %s, not an nn.Module" % (path, name, type(model).__name__))
        if opts.get("weights"):
            sd = load_weights(opts["weights"])
            try:
                model.load_state_dict(sd, strict=True)
            except RuntimeError as e:
                raise BridgeError("weights %s do not match the module: %s" % (opts["weights"], " ".join(str(e).split())))
        dev = opts.get("device", "cpu")
        if dev == "cuda" and not torch.cuda.is_available():
            raise BridgeError("--device cuda: CUDA is not available to this PyTorch (torch %s)" % torch.__version__)
        self.device = torch.device(dev)
        self.model = model.to(self.device).eval()
        params = list(self.model.parameters())
        # The lens needs gradients with respect to states and inputs only: tracking the weights makes every
        # recorded step several times slower.
        for p in params:
            p.requires_grad_(False)
        self.dtype = params[0].dtype if params else torch.float32
        self.param_count = sum(p.numel() for p in params)
        self.input_size = opts["inputSize"]
        self.graphs = {}  # forward id -> (x, hs) with autograd: reused by the VJPs on one forward
        self.gate_store = {}  # forward id -> (its gates {name: T tensors [B, H]}, their bytes), the last few lazyGates forwards
        self.gate_bytes = 0  # the store's total, kept as it changes (summed over per-step tensors at every forward it cost seconds)
        self.discover(opts.get("cells"))

    def call(self, fn, *args):
        try:
            return fn(*args)
        except BridgeError:
            raise
        except Exception as e:  # noqa: BLE001
            raise BridgeError(user_error(e, self.path))

    # ------------------------------------------------------------ discovery
    def discover(self, wanted):
        T, B, F = DISCOVERY_T, DISCOVERY_B, self.input_size
        g = torch.Generator().manual_seed(0)
        x = torch.randn(B, T, F, generator=g).to(self.device, self.dtype)
        names = {m: n for n, m in self.model.named_modules() if n}
        calls = {}
        order = []

        def pre(mod, args):
            n = names[mod]
            if n not in calls:  # order of first call (a cell starts before its own submodules)
                calls[n] = []
                order.append(n)

        def hook(mod, args, kwargs, out):
            calls[names[mod]].append((flat_tensors((args, kwargs)), out))

        handles = [m.register_forward_pre_hook(pre) for m in names] + [m.register_forward_hook(hook, with_kwargs=True) for m in names]
        try:
            with torch.no_grad():
                y = self.call(self.model, x)
        finally:
            for h in handles:
                h.remove()
        if not torch.is_tensor(y):
            raise BridgeError("the model's forward returned a %s; it must return a tensor [B, out] or [B, T, out]" % type(y).__name__)

        def cell_like(n):
            cs = calls[n]
            if len(cs) != T:
                return False
            for inputs, out in cs:
                s = split_output(out)
                if s is None or s[0].dim() != 2 or s[0].shape[0] != B:
                    return False
            return True

        def recurrent(n):
            cs = calls[n]
            for t in range(1, T):
                prev = split_output(cs[t - 1][1])[0]
                if not any(same(a, prev) for a in cs[t][0]):
                    return False
            return True

        per_step = [n for n in order if len(calls[n]) == T]
        if wanted:
            for n in wanted:
                if n not in names.values():
                    raise BridgeError("--cells: the model has no submodule %s (submodules called once per step: %s)" % (n, ", ".join(per_step) or "none"))
                if not cell_like(n):
                    raise BridgeError("--cells: %s is not called once per time step with a [B, H] output (%d calls for T=%d)" % (n, len(calls.get(n, [])), T))
            cells = list(wanted)
        else:
            found = [n for n in order if cell_like(n) and recurrent(n)]
            # The outermost: a cell's own submodules (its Linear layers) can look recurrent too.
            cells = [n for n in found if not any(n.startswith(o + ".") for o in found if o != n)]
            if not cells:
                raise BridgeError("no recurrent cell found: no submodule was called once per time step (T=%d) with its previous output as input (called once per step: %s); name the cells with --cells" % (T, ", ".join(per_step) or "none"))
        # The cells must form a stack: layer 0 reads x_t, layer i reads layer i-1's h_t.
        for i, n in enumerate(cells):
            for t in range(T):
                inputs = calls[n][t][0]
                feed = x[:, t] if i == 0 else split_output(calls[cells[i - 1]][t][1])[0]
                if not any(same(a, feed) for a in inputs):
                    what = "x_t" if i == 0 else "the h_t of %s" % cells[i - 1]
                    raise BridgeError("ambiguous cells: %s (candidates: %s) do not form a stack (%s is not called with %s); name the stack with --cells" % (", ".join(cells), ", ".join(per_step), n, what))
        self.layers = []
        for n in cells:
            h, state, gates = split_output(calls[n][0][1])
            for k, v in gates.items():
                if not (torch.is_tensor(v) and v.shape == h.shape):
                    raise BridgeError("cell %s: gate %r must be a tensor shaped like h [B, %d]" % (n, k, h.shape[1]))
            st = [s.shape[-1] for s in flat_tensors(state)]
            self.layers.append(Layer(n, self.model.get_submodule(n), h.shape[1], st, not torch.is_tensor(state), list(gates.keys())))
        self.find_readout(y, calls, names, x)

    def find_readout(self, y, calls, names, x):
        B, T = x.shape[0], x.shape[1]
        top = torch.stack([split_output(o)[0] for _, o in calls[self.layers[-1].name]], dim=1)  # [B, T, H]
        if y.dim() == 2 and y.shape[0] == B:
            per_step = False
        elif y.dim() == 3 and y.shape[0] == B and y.shape[1] == T:
            per_step = True
        else:
            raise BridgeError("the model's output has shape %s; expected [B, out] (last step) or [B, T, out] (every step)" % list(y.shape))
        want_in = top if per_step else top[:, -1]
        for n, cs in calls.items():
            mod = self.model.get_submodule(n)
            if not isinstance(mod, torch.nn.Linear) or len(cs) != 1:
                continue
            inputs, out = cs[0]
            if torch.is_tensor(out) and same(out, y) and inputs and same(inputs[0], want_in):
                W = mod.weight.detach()
                b = mod.bias.detach() if mod.bias is not None else torch.zeros(W.shape[0], dtype=W.dtype)
                self.readout = {"name": n, "perStep": per_step, "units": W.shape[0], "kernel": W.t(), "bias": b}
                return
        raise BridgeError("the model's output must be an nn.Linear of the top cell's state (%s): h_T -> [B, out], or every h_t -> [B, T, out] in one call; no such nn.Linear produced it" % self.layers[-1].name)

    # ------------------------------------------------------------ running cells
    def run(self, layer, x, h0, keep=None):
        """x [T, B, I] -> hs (list of h_t), gates {name: list of g_t} (only the names in `keep` when given)."""
        L = self.layers[layer]
        state = L.unpack(h0)
        names = [g for g in L.gate_names if keep is None or g in keep]
        cell = L.cell_trace and (keep is None or "cell" in keep)
        hs, gates = [], {g: [] for g in names}
        if cell:
            gates["cell"] = []
        # unbind, not x[t]: with autograd, each x[t] backpropagates into a zero tensor the size of all of x,
        # a backward quadratic in T (2.4-4.5x slower at T=300, B=64, H=100).
        for xt in x.unbind(0):
            h, state, gs = split_output(self.call(L.module, xt, state))
            hs.append(h)
            for g in names:
                gates[g].append(gs[g])
            if cell:
                gates["cell"].append(state[1])
        return hs, gates

    def op_open(self, _h, _a):
        layers = [{"name": L.name, "units": L.units, "stateSize": L.state_size(), "gates": L.gate_names + (["cell"] if L.cell_trace else [])} for L in self.layers]
        r = self.readout
        head = {"files": FILES is not None, "torch": torch.__version__, "dtype": "f8" if self.dtype == torch.float64 else "f4", "paramCount": self.param_count,
                "layers": layers, "readout": {"name": r["name"], "perStep": r["perStep"], "units": r["units"]}}
        return head, [("kernel", r["kernel"]), ("bias", r["bias"])]

    def inputs(self, h, a):
        L = self.layers[h["layer"]]
        x = to_tensor(a["x"], self.dtype, self.device)
        h0 = to_tensor(a["h0"], self.dtype, self.device) if "h0" in a else torch.zeros(x.shape[1], L.state_size(), dtype=self.dtype, device=self.device)
        return x, h0

    def keep(self, key, x, hs):
        self.graphs[key] = (x, hs)
        while len(self.graphs) > 2:
            del self.graphs[next(iter(self.graphs))]

    def op_forward(self, h, a):
        """h_t of every step; the gates too, or (lazyGates) kept here until op_gates asks for them: most
        forwards (retention, probes) never read them, and they are most of the answer's bytes. Without its
        trace (trace false) only the state's c (the gate "cell") is kept, for the state after the last step."""
        x, h0 = self.inputs(h, a)
        keep = None if h.get("trace", True) else {"cell"}
        with torch.inference_mode():  # about 2x faster than no_grad per step; VJPs recompute with autograd
            hs, gates = self.run(h["layer"], x, h0, keep)
        if h.get("lazyGates"):
            # Kept as the per-step tensors and stacked only if op_gates asks: most are never asked for, and
            # stacking them all took about 0.6 s of a bridged diagnose.
            self.forget_gates(h.get("id"))
            nbytes = sum(t.nbytes for v in gates.values() for t in v)
            self.gate_store[h.get("id")] = (gates, nbytes)
            self.gate_bytes += nbytes
            # The newest forwards' gates, up to a byte budget: the diagnosed batch's must survive the
            # single-step calls bistability makes before it reads them.
            while len(self.gate_store) > 1 and self.gate_bytes > GATE_STORE_BYTES:
                self.forget_gates(next(iter(self.gate_store)))
            return {}, [("h", torch.stack(hs))]
        return {}, [("h", torch.stack(hs))] + gate_arrays(gates)

    def forget_gates(self, key):
        """Takes forward `key`'s kept gates out of the store (None when it has none)."""
        kept = self.gate_store.pop(key, None)
        if kept is None:
            return None
        self.gate_bytes -= kept[1]
        return kept[0]

    def op_gates(self, h, a):
        """The gates of forward `id`: kept, else recomputed from its inputs (or {"missing": true} without them)."""
        gates = self.forget_gates(h.get("id"))
        if gates is None:
            if "x" not in a:
                return {"missing": True}, []
            x, h0 = self.inputs(h, a)
            with torch.inference_mode():
                _, gates = self.run(h["layer"], x, h0)
        return {}, gate_arrays(gates)

    def op_backward(self, h, a):
        """dL/dh_t (every path) and dL/dx for L = sum_t <dhOut_t, h_t>."""
        key = h.get("id")
        if key in self.graphs:
            x, hs = self.graphs[key]
            x.grad = None
            for t in hs:
                t.grad = None
        else:
            # Recomputed with autograd and kept: the Jacobian probes run several VJPs on one forward.
            x, h0 = self.inputs(h, a)
            x.requires_grad_(True)
            with torch.enable_grad():
                hs, _ = self.run(h["layer"], x, h0)
            for t in hs:
                t.retain_grad()
            self.keep(key, x, hs)
        dh_out = to_tensor(a["dhOut"], self.dtype, self.device)
        H = torch.stack(hs)
        self.call(torch.autograd.backward, [H], [dh_out], True)
        # retain_grad on each h_t already holds the total derivative; the stack's own grad is dhOut.
        dh = torch.stack([t.grad if t.grad is not None else torch.zeros_like(t) for t in hs])
        dx = x.grad if x.grad is not None else torch.zeros_like(x)
        return {}, [("dh", dh), ("dx", dx)]

    def op_vjps(self, h, a):
        """dL/dh_t of k backward passes on one forward, each seeded at the last step only (seeds [k, B, H] ->
        dh [k, T, B, H]). The batch is replicated k times (rows of a batch are independent sequences), so one
        forward and one backward of batch kB replace k backward passes of batch B: the same arithmetic in k
        times fewer small ops."""
        x, h0 = self.inputs(h, a)
        seeds = to_tensor(a["seeds"], self.dtype, self.device)
        k, B, H = seeds.shape
        T = x.shape[0]
        if x.shape[1] != B:
            raise BridgeError("vjps: %d seed rows for a batch of %d" % (B, x.shape[1]))
        xk = x.repeat(1, k, 1).requires_grad_(True)  # [T, kB, I], replica q = rows qB ... (q+1)B - 1
        with torch.enable_grad():
            hs, _ = self.run(h["layer"], xk, h0.repeat(k, 1))
            dout = torch.zeros(T, k * B, H, dtype=self.dtype, device=self.device)
            dout[T - 1] = seeds.reshape(k * B, H)
            grads = self.call(lambda: torch.autograd.grad([torch.stack(hs)], hs, [dout], allow_unused=True))
        dh = torch.stack([g if g is not None else torch.zeros_like(t) for g, t in zip(grads, hs)])
        return {}, [("dh", dh.reshape(T, k, B, H).transpose(0, 1))]

    def op_release(self, h, _a):
        self.graphs.pop(h.get("id"), None)
        return {}, []

    def op_model(self, _h, a):
        """The user's own forward on x [T, B, F] (checks that the lens's stack + readout reproduce it)."""
        x = to_tensor(a["x"], self.dtype, self.device).transpose(0, 1).contiguous()
        with torch.no_grad():
            y = self.call(self.model, x)
        return {}, [("y", y)]


def main():
    global torch, HAVE_NUMPY
    try:
        import torch  # noqa: F401
    except ImportError:
        write_message({"error": "PyTorch is not installed for %s (pip install torch; needs torch >= 2.0)" % sys.executable})
        return
    version = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2] if p.isdigit())
    if version < MIN_TORCH:
        write_message({"error": "torch %s is too old for %s: needs torch >= 2.0" % (torch.__version__, sys.executable)})
        return
    try:
        import numpy  # noqa: F401
        torch.zeros(1).numpy()
        HAVE_NUMPY = True
    except Exception:  # noqa: BLE001 - torch without numpy: pack by hand
        HAVE_NUMPY = False
    # One thread unless told otherwise: a cell step is a few small ops (too little work to split), and PyTorch's
    # threads spin-wait for each other, which on cores shared with other work made a forward 5-10x slower.
    torch.set_num_threads(int(os.environ.get("RNN_MEMORY_TORCH_THREADS") or 1))
    widen_pipes()
    bridge = None
    while True:
        try:
            header, arrays = read_message()
        except EOFError:
            return
        op = header.get("op")
        try:
            if op == "open":
                bridge = Bridge(header)
                head, out = bridge.op_open(header, arrays)
            elif op == "close":
                write_message({})
                return
            elif bridge is None or not hasattr(bridge, "op_" + str(op)):
                raise BridgeError("unknown request %r" % op)
            else:
                head, out = getattr(bridge, "op_" + op)(header, arrays)
            write_message(head, out)
        except BridgeError as e:
            write_message({"error": str(e)})
        except Exception as e:  # noqa: BLE001 - a bug here, still one line
            write_message({"error": "PyTorch helper: %s" % user_error(e, __file__)})


torch = None
HAVE_NUMPY = False
FILES = open_files()  # before anything can fail: the caller unlinks them after the first answer
if __name__ == "__main__":
    main()
