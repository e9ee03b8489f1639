"""A reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al., 1998).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in C order, big-endian. The files usually
come gzip-compressed (``.gz``); both forms are read.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError

#: IDX type code -> numpy dtype (big-endian where it matters).
IDX_DTYPES: dict[int, str] = {
    0x08: "u1",
    0x09: "i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | Path) -> NDArray[np.generic]:
    """Read an IDX file (gzip-compressed or not) into an array of its declared shape.

    Parameters
    ----------
    path : the ``*-idx3-ubyte`` / ``*-idx1-ubyte`` file, with or without ``.gz``.

    Returns
    -------
    An array of shape (n, rows, cols) for images or (n,) for labels, in native byte order.

    Raises
    ------
    InvalidInputError
        When the file is not IDX or its length disagrees with the header.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        raw = gzip.decompress(raw)
    return parse_idx(raw, str(path))


def parse_idx(raw: bytes, source: str = "<bytes>") -> NDArray[np.generic]:
    """Parse the bytes of an uncompressed IDX file (see :func:`read_idx`)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise InvalidInputError(f"{source} is not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        raise InvalidInputError(f"{source}: unknown IDX type code 0x{code:02X}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InvalidInputError(f"{source}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise InvalidInputError(
            f"{source}: IDX header declares shape {shape} ({expected} bytes) but the file has "
            f"{len(raw)} bytes: the file is truncated or corrupt"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))
