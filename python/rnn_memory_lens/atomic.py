"""Atomic file writes: a reader (the lens, a sync tool) never sees half a file, and a killed script leaves
the previous version in place. Only the standard library."""
import os
import threading

_counter = 0
_counter_lock = threading.Lock()


def _temp_name(path):
    global _counter
    with _counter_lock:
        _counter += 1
        n = _counter
    head, tail = os.path.split(path)
    # Hidden, and named after the writer: readers skip ".*.tmp", and two threads never share a temp file.
    return os.path.join(head, ".%s.%d.%d.%d.tmp" % (tail, os.getpid(), threading.get_ident(), n))


def write_atomic(path, data, fsync=False):
    """Writes bytes (or str, as UTF-8) to a temp sibling, then renames it over `path` (os.replace).

    The rename is atomic for readers and against the process being killed; `fsync` also survives a power
    loss, at the price of a disk flush per write.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = _temp_name(path)
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def write_atomic_parts(path, parts, fsync=False):
    """Like write_atomic for data given as several byte strings (no joined copy of a large snapshot)."""
    tmp = _temp_name(path)
    try:
        with open(tmp, "xb") as f:
            for p in parts:
                f.write(p)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
