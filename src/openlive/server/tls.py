"""Certificates for ``--tls``: a local CA made once, a server certificate for the names asked for,
or the operator's own certificate.

google-genai for Python only speaks ``wss://`` and the native Firebase SDKs only connect to
``wss://firebasevertexai.googleapis.com``, so openlive must present a certificate the client
trusts *for the name the client dialled*. We keep a small local CA (made once, never re-made, so a
device that installed it keeps trusting it) and issue the server certificate from it for
``localhost``/``127.0.0.1``/``::1`` plus every ``--tls-host``; when that set of names changes, only
the server certificate is re-issued. The bundle is the system's CAs plus ours, so
``SSL_CERT_FILE=bundle`` trusts openlive without breaking the rest of the user's HTTPS.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Apple platforms refuse server certificates valid for more than 825 days.
VALID_DAYS = 825
DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")
# A DNS name, optionally a leading wildcard label: what a SAN dNSName may hold.
_DNS_NAME = re.compile(
    r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
)


class TLSConfigError(Exception):
    """A bad ``--tls-host`` name or an unusable ``--tls-cert``/``--tls-key``."""


@dataclass(frozen=True)
class CertificateFiles:
    cert: Path  # what the server presents (leaf + chain)
    key: Path
    ca_cert: Path | None = None  # openlive's local CA; None for the operator's own certificate
    bundle: Path | None = None  # system CAs + our CA: what SSL_CERT_FILE should name
    names: tuple[str, ...] = ()  # the names the certificate covers


def normalize_host(name: str) -> str:
    """``Example.COM`` → ``example.com``; ``[::1]`` → ``::1``; anything unusable raises."""
    value = name.strip().strip("[]").lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if len(value) > 253 or not _DNS_NAME.match(value):
        raise TLSConfigError(f"--tls-host {name!r} is neither a DNS name nor an IP address")
    return value


def ensure_certificate(cert_dir: Path, hosts: Iterable[str] = ()) -> CertificateFiles:
    """The local CA (made once) and a server certificate covering the default names and
    ``hosts``; the server certificate is re-issued whenever that set of names changes."""
    names = tuple(dict.fromkeys([*DEFAULT_NAMES, *(normalize_host(host) for host in hosts)]))
    ca_cert, ca_key_path = cert_dir / "ca.pem", cert_dir / "ca-key.pem"
    files = CertificateFiles(
        cert=cert_dir / "cert.pem",
        key=cert_dir / "key.pem",
        ca_cert=ca_cert,
        bundle=cert_dir / "bundle.pem",
        names=names,
    )
    cert_dir.mkdir(parents=True, exist_ok=True)
    if not (ca_cert.exists() and ca_key_path.exists()):
        # Before the CA key was kept, a CA and its certificate were made together: start over.
        _create_ca(ca_cert, ca_key_path)
        files.cert.unlink(missing_ok=True)
        files.bundle.unlink(missing_ok=True)
    if not (files.cert.exists() and files.key.exists()) or set(_names_in(files.cert)) != set(names):
        _issue_server_certificate(files, ca_cert, ca_key_path)
    if not files.bundle.exists():
        _write_bundle(files.bundle, ca_cert)
    return files


def operator_certificate(cert: Path, key: Path) -> CertificateFiles:
    """The operator's own certificate and key (PEM), checked now so a bad pair fails at start
    with a clear message rather than at the first handshake."""
    for path in (cert, key):
        if not path.is_file():
            raise TLSConfigError(f"TLS file not found: {path}")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as error:
        raise TLSConfigError(f"--tls-cert/--tls-key are not a usable pair: {error}") from None
    return CertificateFiles(cert=cert, key=key, names=tuple(_names_in(cert)))


def _names_in(cert_path: Path) -> list[str]:
    """The subjectAltName entries of the first certificate in a PEM file."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return []
    dns = san.get_values_for_type(x509.DNSName)
    ips = [str(address) for address in san.get_values_for_type(x509.IPAddress)]
    return [*dns, *ips]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(
        now + datetime.timedelta(days=VALID_DAYS)
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _create_ca(ca_cert_path: Path, ca_key_path: Path) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("openlive local CA")
    builder = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
    )
    ca_cert = (
        _validity(builder)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(ca_key_path, ca_key)
    ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _issue_server_certificate(
    files: CertificateFiles, ca_cert_path: Path, ca_key_path: Path
) -> None:
    ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("openlive"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
    )
    cert = (
        _validity(builder)
        .add_extension(
            x509.SubjectAlternativeName([_san(name) for name in files.names]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write_key(files.key, key)
    files.cert.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))


def _write_bundle(bundle: Path, ca_cert: Path) -> None:
    import certifi

    system = Path(certifi.where()).read_bytes()
    bundle.write_bytes(system.rstrip(b"\n") + b"\n" + ca_cert.read_bytes())
