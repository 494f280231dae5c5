"""Monitor: drop into your own PyTorch training loop and the lens lists the run, follows its metrics live and
diagnoses its weight snapshots.

    monitor = Monitor("runs/my-run", model, every=200)
    for step in ...:
        ...
        monitor.log(step, loss=loss.item(), test_metric=mse)
    monitor.close()

The run folder (the lens's run format, readable while the script runs, whatever moment it is killed at):
  run.json       status running/completed/failed, the last step and metrics, a heartbeat refreshed every
                 few seconds by a background thread (a running run whose heartbeat is old has died)
  monitor.json   how to rebuild the model (factory file, name, keyword arguments) and the snapshot policy
  metrics.jsonl  one JSON line per log() call: {"step", "trainLoss", "testLoss", "metric", ...}
  snapshots/step-00000200.safetensors   the state dict every `every` steps; the last `keep_last` are kept,
                 plus every `keep_every`-th (by step // every) and the final one
Only the standard library and torch. Every file is written to a temp file and renamed (os.replace).
"""
import atexit
import datetime
import hashlib
import inspect
import json
import math
import os
import re
import shlex
import shutil
import socket
import sys
import threading
import time
import warnings

import torch

from .atomic import write_atomic, write_atomic_parts
from .diagnose_queue import hand_over, start_diagnosis
from .safetensors_io import cpu_copies, safetensors_parts

FORMAT = "rnn-memory-monitor"
SNAPSHOT_DIR = "snapshots"
SNAPSHOT_RE = re.compile(r"^step-(\d+)\.safetensors$")
FACTORY_RE = re.compile(r"^(.+\.py):([A-Za-z_][A-Za-z0-9_]*)$")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def snapshot_name(step):
    return "step-%08d.safetensors" % step


def _number(v, what):
    if v is None:
        return None
    if torch.is_tensor(v):
        v = v.detach().item()
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise TypeError("%s must be a number or a one-element tensor, not %s" % (what, type(v).__name__))
    return v if math.isfinite(v) else None  # JSON has no NaN: a non-finite value is logged as null


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _factory_of(model, model_factory):
    """(file, name, inferred) of what rebuilds the model: the given "file.py:NAME", else the model's class."""
    if model_factory is not None:
        m = FACTORY_RE.match(model_factory)
        if not m:
            raise ValueError('model_factory must be "file.py:NAME", e.g. "models/my_rnn.py:make_model" (got %r)' % model_factory)
        path, name = m.group(1), m.group(2)
        if not os.path.isfile(path):
            raise ValueError("model_factory: no such file %s" % path)
        return os.path.abspath(path), name, False
    cls = type(model)
    try:
        path = inspect.getsourcefile(cls)
    except TypeError:
        path = None
    if not path or not os.path.isfile(path):
        raise ValueError(
            "cannot tell which file defines %s: give model_factory=\"file.py:NAME\" (and model_args)" % cls.__name__
        )
    if cls.__module__ == "__main__":
        warnings.warn(
            "%s is defined in the running script %s: diagnosing a snapshot imports that file, so keep the "
            "training under `if __name__ == \"__main__\":` (or move the model to its own module)" % (cls.__name__, path),
            stacklevel=3,
        )
    return os.path.abspath(path), cls.__name__, True


def _find_cli():
    """The lens's CLI as an argv prefix: $RNN_MEMORY_CLI (e.g. "node /x/dist/cli.js"), else rnn-memory on PATH."""
    env = os.environ.get("RNN_MEMORY_CLI")
    if env:
        return shlex.split(env)
    found = shutil.which("rnn-memory")
    return [found] if found else None


class Monitor:
    """Writes a run folder the lens lists and diagnoses. See the module docstring for the files."""

    def __init__(self, run_dir, model, every=200, keep_last=5, keep_every=None, model_factory=None, model_args=None,
                 diagnose_every=None, task=None, total_steps=None, metric_name=None, resume=False,
                 heartbeat=10.0, fsync=False):
        if not isinstance(model, torch.nn.Module):
            raise TypeError("model must be a torch.nn.Module, not %s" % type(model).__name__)
        for what, v, least in (("every", every, 1), ("keep_last", keep_last, 1), ("keep_every", keep_every, 1),
                               ("diagnose_every", diagnose_every, 1), ("total_steps", total_steps, 0)):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < least):
                raise ValueError("%s must be an integer >= %d or None (got %r)" % (what, least, v))
        if heartbeat <= 0:
            raise ValueError("heartbeat must be a positive number of seconds (got %r)" % heartbeat)
        if isinstance(task, str):
            task = {"name": task}
        if task is not None and (not isinstance(task, dict) or task.get("name") not in ("copy", "denoise", "smnist")):
            raise ValueError('task must be "copy", "denoise", "smnist" or a dict like {"name": "copy", "T": 100}')
        if diagnose_every is not None and task is None:
            raise ValueError('diagnose_every needs task= (what to diagnose on, e.g. task={"name": "copy", "T": 100})')
        if diagnose_every is not None and every is not None and diagnose_every % every:
            raise ValueError("diagnose_every must be a multiple of every (%d)" % every)
        self.run_dir = os.path.abspath(run_dir)
        self.model = model
        self.every, self.keep_last, self.keep_every = every, keep_last, keep_every
        self.diagnose_every = diagnose_every
        self.heartbeat = float(heartbeat)
        self.fsync = fsync
        self.metric_name = metric_name
        self.total_steps = total_steps or 0
        self.closed = False
        self._lock = threading.RLock()
        self._status_path = os.path.join(self.run_dir, "run.json")
        if os.path.exists(os.path.join(self.run_dir, "config.json")):
            raise ValueError("%s holds a run of the lens's own trainer: give the Monitor another folder" % self.run_dir)
        if os.path.exists(self._status_path) and not resume:
            raise ValueError("%s already holds a run: pass resume=True to continue it, or choose another folder" % self.run_dir)
        self._snap_dir = os.path.join(self.run_dir, SNAPSHOT_DIR)
        os.makedirs(self._snap_dir, exist_ok=True)

        file, name, inferred = _factory_of(model, model_factory)
        self._model_info = {
            "factory": "%s:%s" % (file, name),
            "file": file,
            # Relative to the run folder: found again when the project and its runs move or sync together.
            "relFile": os.path.relpath(file, self.run_dir),
            "name": name,
            "args": model_args or {},
            "inferred": inferred,
            "sha256": _sha256(file),
            "class": "%s.%s" % (type(model).__module__, type(model).__qualname__),
        }
        try:
            json.dumps(self._model_info["args"])
        except (TypeError, ValueError):
            raise ValueError("model_args must be JSON-serialisable keyword arguments (numbers, strings, lists, dicts)")
        if inferred:
            # The class is called with model_args to rebuild the model: say now, not at diagnosis, when they do not fit.
            try:
                inspect.signature(type(model)).bind(**self._model_info["args"])
            except TypeError as e:
                raise ValueError("model_args do not fit %s(...): %s (give model_args={...}, or model_factory=\"file.py:NAME\")" % (name, e))
            except ValueError:
                pass  # no signature to check
        write_atomic(os.path.join(self.run_dir, "monitor.json"), json.dumps({
            "format": FORMAT,
            "version": 1,
            "model": self._model_info,
            "task": task,
            "every": every,
            "keepLast": keep_last,
            "keepEvery": keep_every,
            "diagnoseEvery": diagnose_every,
            "startedAt": _now(),
            "torch": torch.__version__,
            "python": sys.executable,
        }, indent=2) + "\n", fsync)

        self._snapshots = sorted(int(m.group(1)) for m in map(SNAPSHOT_RE.match, os.listdir(self._snap_dir)) if m)
        self._pinned = set()
        self._diagnosed_bucket = -1
        self._last_step = None
        self._last_snapshot = self._snapshots[-1] if self._snapshots else None
        self._last = {}
        self._t0 = time.monotonic()
        self._skipped_warned = False
        self._cli = None
        self._diagnosis = None  # (step, Popen) of the diagnosis running in the background
        self._diagnose_queue = []
        metrics = os.path.join(self.run_dir, "metrics.jsonl")
        # O_APPEND: each line is one write() call, so a killed script leaves whole lines (and a reader skips a cut one).
        self._metrics_fd = os.open(metrics, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if os.path.getsize(metrics) > 0:
            with open(metrics, "rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    os.write(self._metrics_fd, b"\n")
        self._write_status("running")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="rnn-memory-lens heartbeat", daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)

    # ------------------------------------------------------------------ the user's API

    def log(self, step, loss=None, test_metric=None, test_loss=None, **scalars):
        """Records one line of metrics at `step` and takes a snapshot when `step` reaches the next multiple of `every`."""
        if self.closed:
            raise RuntimeError("log() after close()")
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise ValueError("step must be a non-negative integer (got %r)" % (step,))
        line = {"step": step}
        for key, v in (("trainLoss", loss), ("testLoss", test_loss), ("metric", test_metric)):
            v = _number(v, key)
            if v is not None:
                line[key] = v
        if self.metric_name and "metric" in line:
            line["metricName"] = self.metric_name
        for key, v in scalars.items():
            if key not in line:
                line[key] = _number(v, key)
        line["elapsedMs"] = int((time.monotonic() - self._t0) * 1000)
        os.write(self._metrics_fd, (json.dumps(line, separators=(",", ":")) + "\n").encode())
        self._last_step = step
        if "trainLoss" in line:
            self._last["lastLoss"] = line["trainLoss"]
        if "metric" in line:
            self._last["lastMetric"] = line["metric"]
        if self.every is not None and (self._last_snapshot is None or step // self.every > self._last_snapshot // self.every):
            self.snapshot(step)
        self._poll_diagnosis()

    def snapshot(self, step=None):
        """Writes the model's state dict now as snapshots/step-N.safetensors, then applies the keep policy."""
        step = self._last_step if step is None else step
        if step is None:
            raise ValueError("snapshot() before any log(): give the step")
        tensors, skipped = cpu_copies(self.model.state_dict())
        if skipped and not self._skipped_warned:
            self._skipped_warned = True
            warnings.warn("snapshots leave out state entries that are not float/int tensors: %s" % ", ".join(skipped[:5]))
        parts = safetensors_parts(tensors, {"format": "pt", "step": step})
        write_atomic_parts(os.path.join(self._snap_dir, snapshot_name(step)), parts, self.fsync)
        with self._lock:
            if step not in self._snapshots:
                self._snapshots.append(step)
                self._snapshots.sort()
            self._last_snapshot = max(step, self._last_snapshot or 0)
            if self.diagnose_every and step // self.diagnose_every > self._diagnosed_bucket:
                self._diagnosed_bucket = step // self.diagnose_every
                self._pinned.add(step)  # kept whatever the policy says: its diagnosis is part of the run
                self._diagnose_queue.append(step)
            self._apply_policy()
            self._write_status("running")
        return os.path.join(self._snap_dir, snapshot_name(step))

    def close(self, status="completed", error=None):
        """Final snapshot (when the last logged step has none), status completed (or failed), heartbeat stopped."""
        if self.closed:
            return
        try:
            if self._last_step is not None and self._last_step not in self._snapshots and self.every is not None:
                self.snapshot(self._last_step)
        finally:
            self.closed = True
            self._stop.set()
            self._thread.join(timeout=5)
            os.close(self._metrics_fd)
            self._write_status(status, error)
            atexit.unregister(self._at_exit)
            self._hand_over_diagnoses()

    def _hand_over_diagnoses(self):
        """Diagnoses still queued when the script ends run after it, in a detached process (none are dropped)."""
        self._poll_diagnosis()
        if not self._diagnose_queue or not self._cli:
            return
        running = self._diagnosis[1].pid if self._diagnosis is not None else None
        try:
            hand_over(self._cli, self.run_dir, sys.executable, self._diagnose_queue, wait_pid=running)
        except OSError as e:
            warnings.warn("diagnose_every: could not start the diagnoses of steps %s after the script (%s)" % (self._diagnose_queue, e))
        self._diagnose_queue = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.close("failed", "%s: %s" % (exc_type.__name__, " ".join(str(exc).split())[:500]))
        return False

    # ------------------------------------------------------------------ internals

    def kept_snapshots(self):
        with self._lock:
            return list(self._snapshots)

    def _keeps(self, step, last_n):
        if step in last_n or step in self._pinned:
            return True
        return bool(self.keep_every and self.every and (step // self.every) % self.keep_every == 0)

    def _apply_policy(self):
        last_n = set(self._snapshots[-self.keep_last:]) if self.keep_last else set()
        for step in [s for s in self._snapshots if not self._keeps(s, last_n)]:
            try:
                os.remove(os.path.join(self._snap_dir, snapshot_name(step)))
            except FileNotFoundError:
                pass
            self._snapshots.remove(step)

    def _write_status(self, status, error=None):
        with self._lock:
            s = {
                "status": status,
                "source": "monitor",
                "step": self._last_step or 0,
                "totalSteps": self.total_steps,
                "skipped": 0,
                "updatedAt": _now(),
                "heartbeatAt": _now(),
                "heartbeatSeconds": self.heartbeat,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "snapshots": list(self._snapshots),
            }
            s.update(self._last)
            if self.metric_name:
                s["metricName"] = self.metric_name
            if error:
                s["error"] = error
            write_atomic(self._status_path, json.dumps(s, indent=2) + "\n", self.fsync)

    def _beat(self):
        while not self._stop.wait(self.heartbeat):
            try:
                self._write_status("running")
            except OSError:
                pass  # the folder went away (deleted, unmounted): the training itself goes on

    def _poll_diagnosis(self):
        """Starts the next queued diagnosis when none runs: `rnn-memory diagnose --run DIR --step N` in the background."""
        if self._diagnosis is not None:
            step, proc = self._diagnosis
            if proc.poll() is None:
                return
            self._diagnosis = None
        if not self._diagnose_queue:
            return
        if self._cli is None:
            self._cli = _find_cli() or False
            if not self._cli:
                warnings.warn("diagnose_every: the lens's CLI was not found (install rnn-memory or set RNN_MEMORY_CLI); no diagnoses are written")
        if not self._cli:
            self._diagnose_queue.clear()
            return
        step = self._diagnose_queue.pop(0)
        proc = start_diagnosis(self._cli, self.run_dir, step, sys.executable)
        self._diagnosis = (step, proc)

    def _at_exit(self):
        """The script ended without close(): completed, or failed when it ended on an uncaught exception."""
        exc = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
        if exc is not None:
            self.close("failed", "%s: %s" % (type(exc).__name__, " ".join(str(exc).split())[:500]))
        else:
            self.close()
