"""A client certificate: the private key and the SHA-1 thumbprint (x5t) that a signed client
assertion names it by."""

from __future__ import annotations

import base64

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from mscal.errors import AuthError


def certificate_parts(pem: str) -> tuple[str, str]:
    """The private key (PEM) and the certificate's x5t thumbprint from one PEM bundle."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError:
        raise AuthError(
            "client_certificate: needs the certificate and its unencrypted private key in one PEM"
        ) from None
    thumbprint = (
        base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA1())).decode().rstrip("=")
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, thumbprint
