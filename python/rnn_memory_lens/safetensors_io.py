"""Writes a state dict as safetensors with the standard library: an 8-byte little-endian header length, a
JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian tensor bytes. The PyTorch
bridge and the `safetensors` package both read it."""
import ctypes
import json
import struct
import sys

import torch

DTYPES = {
    torch.float32: "F32",
    torch.float64: "F64",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def cpu_copies(state_dict):
    """{name: contiguous CPU tensor} copied now (training goes on changing the originals), and the names
    of entries left out (not tensors, or of a dtype safetensors has no name for)."""
    out, skipped = {}, []
    for name, t in state_dict.items():
        if not torch.is_tensor(t) or t.dtype not in DTYPES:
            skipped.append(name)
            continue
        t = t.detach()
        # .to(copy=True) gives a fresh tensor even on the CPU; contiguous for the raw bytes below.
        out[name] = t.to("cpu", copy=True).contiguous()
    return out, skipped


def tensor_bytes(t):
    """The raw bytes of a contiguous CPU tensor (ctypes: no numpy needed, and fast)."""
    n = t.numel() * t.element_size()
    return ctypes.string_at(t.data_ptr(), n) if n else b""


def safetensors_parts(tensors, metadata=None):
    """The file as a list of byte strings (header, then each tensor's data)."""
    if sys.byteorder != "little":
        raise RuntimeError("safetensors snapshots are written on little-endian machines only")
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the format aligns the data to 8 bytes
    return [struct.pack("<Q", len(text)), text] + blobs
