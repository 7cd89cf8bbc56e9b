"""Atomic file and directory writes.

A save goes to a hidden temporary name in the target's folder (dot-prefixed, so an
`os.listdir(checkpoint_dir)` scan for checkpoints never sees it) and is renamed over the
target only once complete: a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid


def _temp_name(path, kind):
    directory, base = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{base}.{kind}-{uuid.uuid4().hex[:12]}")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary file path; on success it replaces `path` atomically."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Cannot save to {path!r}: folder {directory!r} does not exist.")
    tmp = _temp_name(path, "tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            if os.path.isdir(tmp):
                shutil.rmtree(tmp)
            else:
                os.remove(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path):
    """Yield a temporary folder; on success it replaces the folder `path`."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"Cannot save to {path!r}: folder {parent!r} does not exist.")
    tmp = _temp_name(path, "tmp")
    os.makedirs(tmp)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if os.path.lexists(path):
        if not os.path.isdir(path) or os.path.islink(path):
            shutil.rmtree(tmp, ignore_errors=True)
            raise FileExistsError(f"Cannot save a model folder at {path!r}: a file is there.")
        old = _temp_name(path, "old")
        os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        if old is not None:
            os.replace(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"


def sniff(path):
    """'dir', 'hdf5', 'zip', 'json', or None from the first bytes of `path`."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return "dir"
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return None
    if head.startswith(HDF5_SIGNATURE):
        return "hdf5"
    if head.startswith(ZIP_SIGNATURE) or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    return None
