"""Where decoded image folders are cached, keyed on the files' content.

The key hashes every file's content digest (with its path, label and the image size), so a
file replaced by another (even one of the same size) is decoded again, never served stale.
Hashing every file on each load would cost a pass over the collection, so digests are kept in
a small index beside the cache and reused while a file's size, mtime_ns and inode are unchanged
(the first check); a file whose stat changed is hashed again (the content decides).

Bookkeeping only (it decides no number, as long as it is right), so this module is left out of
trial ids (``identity.NOT_NUMERIC``): changing how the cache is kept does not change them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from novelbench.datasets.base import cache_dir


def _folder() -> Path:
    return cache_dir() / "decoded"


def _atomic(path: Path, save) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        save(tmp)
        os.replace(tmp, path)  # a killed run never leaves a half-written file
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "blake2b").hexdigest()[:32]


def content_digests(paths: list[Path], index_name: str) -> list[str]:
    """Each file's content digest, rehashing only files whose size, mtime_ns or inode changed."""
    index_path = _folder() / f"{index_name}-digests.json"
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    digests, changed = [], False
    for path in paths:
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        known = index.get(str(path))
        if not known or known[:3] != stamp:
            known = [*stamp, _digest(path)]
            index[str(path)] = known
            changed = True
        digests.append(known[3])
    if changed:
        _atomic(index_path, lambda tmp: Path(tmp).write_text(json.dumps(index)))
    return digests


def cache_path(files: list[tuple[Path, int]], size: int, name: str) -> Path:
    """The cache file of these (path, label) files decoded at ``size`` px, keyed on their content."""
    paths = [p for p, _ in files]
    index_name = f"{name}-" + hashlib.sha256("\n".join(map(str, sorted({p.parent for p in paths}))).encode()).hexdigest()[:12]
    digests = content_digests(paths, index_name)
    key_text = f"{size}\n" + "\n".join(f"{p}|{d}|{label}" for (p, label), d in zip(files, digests))
    return _folder() / f"{name}-{size}px-{hashlib.sha256(key_text.encode()).hexdigest()[:16]}.pt"


def load(path: Path) -> Any | None:
    """The cached decode, or None if there is none (or it cannot be read: then it is redone)."""
    if not path.exists():
        return None
    try:
        return torch.load(path, weights_only=False)
    except Exception:
        return None


def save(path: Path, payload: Any) -> None:
    _atomic(path, lambda tmp: torch.save(payload, tmp))
