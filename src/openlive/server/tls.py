"""A self-signed certificate for ``--tls``: made once, reused after.

google-genai for Python only speaks ``wss://``, so a local server needs a certificate that client
trusts. We make a small local CA and a server certificate for ``localhost``/``127.0.0.1``/``::1``,
and a bundle of the system's CAs plus ours, so ``SSL_CERT_FILE=bundle`` trusts openlive without
breaking the rest of the user's HTTPS.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 825


@dataclass(frozen=True)
class CertificateFiles:
    ca_cert: Path
    cert: Path
    key: Path
    bundle: Path  # system CAs + our CA: what SSL_CERT_FILE should name


def ensure_certificate(cert_dir: Path) -> CertificateFiles:
    files = CertificateFiles(
        ca_cert=cert_dir / "ca.pem",
        cert=cert_dir / "cert.pem",
        key=cert_dir / "key.pem",
        bundle=cert_dir / "bundle.pem",
    )
    if not all(path.exists() for path in (files.ca_cert, files.cert, files.key)):
        _create(files)
    if not files.bundle.exists():
        _write_bundle(files)
    return files


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _create(files: CertificateFiles) -> None:
    files.cert.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("openlive local CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
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
    key = ec.generate_private_key(ec.SECP256R1())
    names = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files.ca_cert.write_bytes(ca_cert.public_bytes(pem))
    files.cert.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    files.key.touch(mode=0o600)
    files.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files.bundle.unlink(missing_ok=True)


def _write_bundle(files: CertificateFiles) -> None:
    import certifi

    system = Path(certifi.where()).read_bytes()
    files.bundle.write_bytes(system.rstrip(b"\n") + b"\n" + files.ca_cert.read_bytes())
