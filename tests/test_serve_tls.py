"""``ledger serve --tls-cert --tls-key``: HTTPS with a certificate verified end to end.

The test makes its own CA and a server certificate for 127.0.0.1 with
``cryptography``, serves the real command over TLS on a loopback port, and
connects with verification on against that CA only. Responses carry
``Strict-Transport-Security``; a client that does not trust the CA is refused.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ledger.cli import main
from ledger.store.firm import FirmStore

ROOT = Path(__file__).resolve().parents[1]


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A self-signed CA and a server certificate it signs for IP 127.0.0.1."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("ledger test CA"))
          .issuer_name(_name("ledger test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serves_https_verified_against_its_ca_with_hsts(firm_store: FirmStore,
                                                         tmp_path: Path) -> None:
    ca, cert, key = make_certificates(tmp_path)
    port = free_port()
    env = {**os.environ, "LEDGER_DATABASE_URL": firm_store.location.url,
           "LEDGER_FIRM": firm_store.firm, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger", "serve", "--port", str(port), "--no-follow",
         "--tls-cert", str(cert), "--tls-key", str(key)], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        trusted = ssl.create_default_context(cafile=str(ca))
        response = None
        deadline = time.monotonic() + 60
        while response is None and time.monotonic() < deadline:
            try:
                response = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=trusted)
            except httpx.ConnectError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.2)
        assert response is not None and response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert response.headers["strict-transport-security"] == "max-age=31536000"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"https://127.0.0.1:{port}/healthz", verify=ssl.create_default_context())
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert f"on https://127.0.0.1:{port}" in out.decode()


def test_tls_flags_go_together_and_must_load(firm_store: FirmStore, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    _, cert, key = make_certificates(tmp_path)
    base = ["--firm", firm_store.firm, "serve", "--port", str(free_port())]
    assert main([*base, "--tls-cert", str(cert)]) == 2
    assert main([*base, "--tls-cert", str(cert), "--tls-key", str(cert)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: --tls-cert and --tls-key go together",
                   "error: --tls-cert/--tls-key: cannot load a certificate chain and its "
                   "private key (PEM) from these files"]
    assert key.exists()
