"""`keras.utils.get_file`: download once into the Keras home, verify, extract."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile

from keras_on_jax.backend import config


def _hash_file(path, algorithm, chunk_size=65535):
    hasher = hashlib.sha256() if algorithm == "sha256" else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _resolve_algorithm(file_hash, hash_algorithm):
    if hash_algorithm in ("sha256", "md5"):
        return hash_algorithm
    return "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
    algorithm = _resolve_algorithm(file_hash, algorithm)
    return str(_hash_file(fpath, algorithm, chunk_size)) == str(file_hash)


def _safe_members(names, target):
    target = os.path.realpath(target)
    for name in names:
        dest = os.path.realpath(os.path.join(target, name))
        if dest == target or dest.startswith(target + os.sep):
            yield name


def _extract(archive, target, archive_format="auto"):
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format))
    for fmt in formats:
        if fmt == "tar" and tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tar:
                members = [m for m in tar.getmembers()
                           if m.name in set(_safe_members([m.name], target)) and not m.issym() and not m.islnk()]
                tar.extractall(target, members=members, filter="data")
            return True
        if fmt == "zip" and zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(target, members=list(_safe_members(zf.namelist(), target)))
            return True
    return False


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Download a file from a URL (`http(s)://`, `file://`) unless it is already cached.

    Returns the path of the file (or of the extracted folder with `extract=True`).
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    root = os.path.expanduser(cache_dir) if cache_dir is not None else config.keras_home()
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    try:
        os.makedirs(root, exist_ok=True)
        if not os.access(root, os.W_OK):
            raise OSError
    except OSError:
        root = os.path.join(tempfile.gettempdir(), ".keras")
    datadir = cache_subdir if os.path.isabs(cache_subdir) else os.path.join(root, cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    if fname is None:
        fname = os.path.basename(urllib.request.urlparse(origin).path)
        from_url = True
    else:
        from_url = False
    if not fname:
        raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'. "
                         "Please specify the `fname` argument.")
    if os.sep in fname or (os.altsep and os.altsep in fname):
        raise ValueError(f"Argument `fname` must not contain a path separator. Received: fname={fname}")
    if untar:
        extract = True
    if extract:
        if from_url:
            download_target = os.path.join(datadir, fname + "_archive")
            extract_path = os.path.join(datadir, fname)
        elif "." in fname:
            download_target = os.path.join(datadir, fname)
            extract_path = os.path.join(datadir, fname.split(".", 1)[0] + "_extracted")
        else:
            download_target = os.path.join(datadir, fname + "_archive")
            extract_path = os.path.join(datadir, fname)
    else:
        download_target = os.path.join(datadir, fname)
        extract_path = None

    algorithm = _resolve_algorithm(file_hash, hash_algorithm)
    download = force_download or not os.path.exists(download_target)
    if not download and file_hash is not None and not validate_file(download_target, file_hash, algorithm):
        print(f"A local file was found, but it seems to be incomplete or outdated because the "
              f"{algorithm} file hash does not match the original value of {file_hash} so we "
              "will re-download the data.")
        download = True
    if download:
        print(f"Downloading data from {origin}")
        partial = download_target + ".part"
        try:
            with urllib.request.urlopen(origin) as response, open(partial, "wb") as out:
                shutil.copyfileobj(response, out)
            os.replace(partial, download_target)
        except (Exception, KeyboardInterrupt) as e:
            if os.path.exists(partial):
                os.remove(partial)
            raise Exception(f"URL fetch failure on {origin}: {e}") from e
        if file_hash is not None and not validate_file(download_target, file_hash, algorithm):
            raise ValueError(
                f"Incomplete or corrupted file detected. The {algorithm} file hash does not "
                f"match the provided value of {file_hash}."
            )
    if extract:
        if not os.path.exists(extract_path) or download:
            os.makedirs(extract_path, exist_ok=True)
            if not _extract(download_target, extract_path, archive_format):
                import warnings

                warnings.warn(f"Could not extract archive {download_target}.", stacklevel=2)
        return extract_path
    return download_target
