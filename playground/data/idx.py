"""Reader for the idx format used by MNIST and Fashion-MNIST (optionally gzipped)."""

import gzip
from pathlib import Path

import numpy as np

from ..errors import PlaygroundError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise PlaygroundError(f"cannot read idx file {path}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise PlaygroundError(f"{path} is not an idx file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise PlaygroundError(f"{path} is truncated (header)")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(_DTYPES[raw[2]])
    count = int(np.prod(dims)) if dims else 0
    if len(raw) != header + count * dtype.itemsize:
        raise PlaygroundError(
            f"{path} is truncated or padded: header says {dims}, file has {len(raw) - header} data bytes")
    return np.frombuffer(raw, dtype=dtype, offset=header, count=count).reshape(dims)


def find_idx_pair(folder: Path, split: str) -> tuple[Path, Path] | None:
    """Locate `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` in a folder."""
    prefix = "train" if split == "train" else "t10k"
    found = []
    for kind in ("images-idx3", "labels-idx1"):
        for name in (f"{prefix}-{kind}-ubyte", f"{prefix}-{kind}-ubyte.gz",
                     f"{prefix}-{kind}.ubyte", f"{prefix}-{kind}.ubyte.gz"):
            if (folder / name).is_file():
                found.append(folder / name)
                break
    return (found[0], found[1]) if len(found) == 2 else None
