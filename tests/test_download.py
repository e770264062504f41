"""Downloads against a real HTTP server on 127.0.0.1: checksums, atomicity, resume, loaders."""
from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import soundfile as sf

from textanchor.data import DataError, load_dataset
from textanchor.data import mnist as mnist_module
from textanchor.data.download import download, extract_archive

PAYLOAD = bytes(range(256)) * 400  # 100 KiB, several read chunks


class Server:
    """Serves `files` (path -> bytes); honours `Range: bytes=N-` unless `ranges` is False.

    Paths listed in `truncate` send their full Content-Length but close the connection halfway
    through the body, once per listing, to simulate a dropped transfer.
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.truncate: set[str] = set()
        self.ranges = True
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start, status = 0, 200
                rng = self.headers.get("Range")
                if rng and server.ranges and rng.startswith("bytes="):
                    start, status = int(rng[6:].split("-")[0]), 206
                    if start >= len(body):
                        self.send_error(416)
                        return
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) - start))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.end_headers()
                if self.path in server.truncate:
                    server.truncate.discard(self.path)
                    self.wfile.write(body[start: start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_good_download_is_verified_and_atomic(server, tmp_path):
    server.files["/a.bin"] = PAYLOAD
    seen = []
    dest = download(server.url + "/a.bin", tmp_path / "sub" / "a.bin", sha256=sha256(PAYLOAD),
                    md5=hashlib.md5(PAYLOAD).hexdigest(), progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == PAYLOAD and not (tmp_path / "sub" / "a.bin.part").exists()
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    download(server.url + "/a.bin", dest, sha256=sha256(PAYLOAD))  # present and valid: no fetch
    assert len(server.requests) == 1


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    server.files["/bad.bin"] = PAYLOAD
    with pytest.raises(DataError) as err:
        download(server.url + "/bad.bin", tmp_path / "bad.bin", sha256="0" * 64)
    msg = str(err.value)
    assert "/bad.bin" in msg and "0" * 64 in msg and sha256(PAYLOAD) in msg
    assert list(tmp_path.iterdir()) == []


def test_interrupted_transfer_resumes_with_range(server, tmp_path):
    server.files["/big.bin"] = PAYLOAD
    server.truncate.add("/big.bin")
    dest = tmp_path / "big.bin"
    with pytest.raises(DataError, match="could not fetch"):
        download(server.url + "/big.bin", dest, sha256=sha256(PAYLOAD))
    part = tmp_path / "big.bin.part"
    assert not dest.exists() and part.stat().st_size == len(PAYLOAD) // 2
    download(server.url + "/big.bin", dest, sha256=sha256(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD and not part.exists()
    assert server.requests[-1] == ("/big.bin", f"bytes={len(PAYLOAD) // 2}-")


def test_server_without_range_support_restarts(server, tmp_path):
    server.files["/x.bin"], server.ranges = PAYLOAD, False
    (tmp_path / "x.bin.part").write_bytes(b"stale junk")
    dest = download(server.url + "/x.bin", tmp_path / "x.bin", sha256=sha256(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD


def test_network_errors_say_where_to_put_files(server, tmp_path):
    with pytest.raises(DataError, match="by hand"):
        download(server.url + "/missing.bin", tmp_path / "m.bin")
    with pytest.raises(DataError, match="could not fetch"):
        download("http://127.0.0.1:9/none", tmp_path / "n.bin", timeout=2)  # discard port: refused


def test_extract_archive_zip_tar_and_traversal(tmp_path):
    z = tmp_path / "a.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("top/x.txt", "hi")
    assert (extract_archive(z, tmp_path / "out") / "top" / "x.txt").read_text() == "hi"
    t = tmp_path / "a.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        info = tarfile.TarInfo("top/y.txt")
        info.size = 2
        tf.addfile(info, io.BytesIO(b"yo"))
    assert (extract_archive(t, tmp_path / "out") / "top" / "y.txt").read_text() == "yo"
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escaped.txt", "gotcha")
    with pytest.raises(DataError, match="outside"):
        extract_archive(evil, tmp_path / "out2")
    assert not (tmp_path / "escaped.txt").exists()


def _idx_gz(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_mnist_download_from_base_url(server, tmp_path):
    files = {"t10k-images-idx3-ubyte.gz": _idx_gz(np.full((4, 28, 28), 9, np.uint8)),
             "t10k-labels-idx1-ubyte.gz": _idx_gz(np.array([1, 2, 3, 4]))}
    for name, data in files.items():
        server.files["/mnist/" + name] = data
    # The tiny fixtures fail the real MNIST checksums, and the loader must notice.
    with pytest.raises(DataError, match="md5 mismatch"):
        load_dataset("mnist", root=tmp_path, split="test", download=True, base_url=server.url + "/mnist/")
    md5 = {name: hashlib.md5(data).hexdigest() for name, data in files.items()}
    ds = load_dataset("mnist", root=tmp_path, split="test", download=True,
                      base_url=server.url + "/mnist", md5=md5)
    assert len(ds) == 4 and ds.texts == ["one", "two", "three", "four"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)
    assert set(mnist_module.MNIST_MD5) >= set(files)


def _wav_bytes(sr: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, 0.3 * np.sin(np.arange(sr // 10) / 5.0).astype(np.float32), sr, format="WAV")
    return buf.getvalue()


def test_fsdd_and_audiomnist_download_from_base_url(server, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(6):
            zf.writestr(f"free-spoken-digit-dataset-master/recordings/7_jackson_{i}.wav", _wav_bytes(8000))
        zf.writestr("free-spoken-digit-dataset-master/README.md", "FSDD")
    server.files["/fsdd.zip"] = buf.getvalue()
    ds = load_dataset("fsdd", root=tmp_path / "fsdd", split="test", download=True,
                      base_url=server.url + "/fsdd.zip")
    assert len(ds) == 5 and set(ds.texts) == {"seven"}

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for spk in ("01", "60"):
            zf.writestr(f"AudioMNIST-master/data/{spk}/4_{spk}_0.wav", _wav_bytes(48000))
    server.files["/am.zip"] = buf.getvalue()
    am = load_dataset("audiomnist", root=tmp_path / "am", split="test", download=True,
                      base_url=server.url + "/am.zip")
    assert am.groups == ["60"] and am.items[0].shape == (800,)
