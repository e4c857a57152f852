"""https for the local service: a certificate authority of this machine's own and a server
certificate it signs for the loopback names, made with `cryptography`.

Microsoft's clients (MSAL, azure-identity) refuse an authority that is not https, so
`mscal sandbox --tls` serves with these files and prints the CA file for clients to trust
(`REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`, or the client's own `verify` setting). The files sit in
a private directory (0700), each 0600; they are reused while the server certificate has a day
left and names every host asked for, so a CA once trusted stays trusted across restarts.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mscal.files import write_atomically

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
_CA_DAYS = 3650
_SERVER_DAYS = 397  # the longest a browser accepts for a server certificate
_RENEW_BEFORE = datetime.timedelta(days=1)


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # the certificate to trust
    cert: Path  # the server's certificate
    key: Path  # the server's private key


def ensure_tls_files(directory: Path, hosts: tuple[str, ...] = LOOPBACK_NAMES) -> TlsFiles:
    """The CA and server certificate in `directory`, made (again) when missing, expiring or
    not naming every one of `hosts`."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)  # a directory made earlier with a looser mode is tightened
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    if not _still_good(files, hosts):
        _make(files, hosts)
    return files


def _still_good(files: TlsFiles, hosts: tuple[str, ...]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        x509.load_pem_x509_certificate(files.ca.read_bytes())
        files.key.stat()
    except (OSError, ValueError):
        return False
    now = datetime.datetime.now(datetime.UTC)
    if cert.not_valid_after_utc - now < _RENEW_BEFORE:
        return False
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    named = {str(value) for value in names.get_values_for_type(x509.DNSName)}
    named |= {str(value) for value in names.get_values_for_type(x509.IPAddress)}
    return all(_canonical(host) in named for host in hosts)


def _make(files: TlsFiles, hosts: tuple[str, ...]) -> None:
    # EC P-256 keys: made in a millisecond where RSA takes a tenth of a second.
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mscal local CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=_CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=_SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(h) for h in hosts]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    write_atomically(
        files.key,
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    write_atomically(files.cert, server.public_bytes(pem))
    write_atomically(files.ca, ca.public_bytes(pem))


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _canonical(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.lower()


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host.lower())
