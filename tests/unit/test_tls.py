"""The local certificate covers every --tls-host, is re-issued when the names change, and keeps
its CA (a device that installed the CA keeps trusting openlive)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography import x509

from openlive.server.tls import (
    TLSConfigError,
    ensure_certificate,
    normalize_host,
    operator_certificate,
)
from openlive.settings import Settings


def sans(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {*san.get_values_for_type(x509.DNSName)} | {
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)
    }


def test_default_names_then_more_names_reissue_only_the_server_certificate(
    tmp_path: Path,
) -> None:
    first = ensure_certificate(tmp_path)
    assert sans(first.cert) == {"localhost", "127.0.0.1", "::1"}
    ca_before, cert_before = first.ca_cert.read_bytes(), first.cert.read_bytes()

    assert ensure_certificate(tmp_path).cert.read_bytes() == cert_before  # same names: reused

    hosts = ["FirebaseVertexAI.googleapis.com.", "192.168.1.20", "[fe80::1]"]
    second = ensure_certificate(tmp_path, hosts)
    assert sans(second.cert) == {
        "localhost",
        "127.0.0.1",
        "::1",
        "firebasevertexai.googleapis.com",
        "192.168.1.20",
        "fe80::1",
    }
    assert second.cert.read_bytes() != cert_before
    assert second.ca_cert.read_bytes() == ca_before
    # The new certificate chains to the unchanged CA, for the new name.
    context = ssl.create_default_context(cafile=second.ca_cert)
    context.load_cert_chain(second.cert, second.key)  # the key matches the certificate
    leaf = x509.load_pem_x509_certificate(second.cert.read_bytes())
    ca = x509.load_pem_x509_certificate(ca_before)
    leaf.verify_directly_issued_by(ca)
    assert second.bundle.read_bytes().endswith(ca_before)

    # Dropping the names again re-issues once more.
    assert sans(ensure_certificate(tmp_path).cert) == {"localhost", "127.0.0.1", "::1"}


@pytest.mark.parametrize("bad", ["", "exa mple.com", "-bad.com", "a..b", "x" * 254, "ht/tp"])
def test_unusable_names_are_refused(bad: str) -> None:
    with pytest.raises(TLSConfigError):
        normalize_host(bad)


def test_wildcard_names_are_allowed() -> None:
    assert normalize_host("*.example.org") == "*.example.org"


def test_operator_certificate_is_checked(tmp_path: Path) -> None:
    other = ensure_certificate(tmp_path / "other", ["openlive.example"])
    own = operator_certificate(other.cert, other.key)
    assert "openlive.example" in own.names
    assert own.bundle is None and own.ca_cert is None

    mismatched = ensure_certificate(tmp_path / "third")
    with pytest.raises(TLSConfigError, match="not a usable pair"):
        operator_certificate(other.cert, mismatched.key)
    with pytest.raises(TLSConfigError, match="not found"):
        operator_certificate(tmp_path / "missing.pem", other.key)


def test_tls_options_imply_tls_and_go_together(tmp_path: Path) -> None:
    assert Settings(tls_hosts="a.example, 10.0.0.2").tls_hosts == ["a.example", "10.0.0.2"]
    assert Settings(tls_hosts=["a.example"]).tls
    assert Settings(tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem").tls
    with pytest.raises(ValueError, match="go together"):
        Settings(tls_cert=tmp_path / "c.pem")
