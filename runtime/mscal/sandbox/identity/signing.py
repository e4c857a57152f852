"""The platform's token-signing key: RS256, as Entra signs, published as a JWKS.

The key is made on first use (an RSA key takes a tenth of a second; a service that never signs
an id_token never pays it) and kept in the store, so a token signed before a restart still
verifies after it. Like Entra's, the published key carries a certificate (`x5c`) and its
SHA-1 thumbprint (`x5t`, also the `kid`).
"""

from __future__ import annotations

import base64
import datetime
import threading
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import RSAKey

from mscal.sandbox.store import Store

_KIND, _ID = "signing-key", "current"


class SigningKey:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._key: RSAKey | None = None
        self._public: dict[str, Any] = {}

    def sign(self, claims: dict[str, Any]) -> str:
        """A compact JWS of `claims`, RS256, its header naming the key as Entra's do."""
        key = self._load()
        header = {"typ": "JWT", "alg": "RS256", "kid": key.kid, "x5t": key.kid}
        return jwt.encode(header, claims, key, algorithms=["RS256"])

    def jwks(self, issuer: str | None = None) -> dict[str, Any]:
        """The JWKS document: the public key (with `issuer` on the v2.0 document, as Entra's)."""
        self._load()
        entry = dict(self._public)
        if issuer is not None:
            entry["issuer"] = issuer
        return {"keys": [entry]}

    def _load(self) -> RSAKey:
        with self._lock:
            if self._key is None:
                saved = self._store.get(_KIND, _ID)
                if saved is None:
                    saved = _new_key()
                    self._store.put(_KIND, saved, track=False)
                cert = x509.load_der_x509_certificate(base64.b64decode(saved["x5c"]))
                # x5t is the certificate's SHA-1 thumbprint by definition (RFC 7517).
                thumbprint = _b64url(cert.fingerprint(hashes.SHA1()))
                key = RSAKey.import_key(saved["private_pem"], {"kid": thumbprint})
                public = key.as_dict(private=False)
                self._key = key
                self._public = {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": thumbprint,
                    "x5t": thumbprint,
                    "n": public["n"],
                    "e": public["e"],
                    "x5c": [saved["x5c"]],
                }
            return self._key


def _new_key() -> dict[str, Any]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mscal local identity platform")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(private, hashes.SHA256())
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    der = cert.public_bytes(serialization.Encoding.DER)
    return {"id": _ID, "private_pem": pem, "x5c": base64.b64encode(der).decode()}


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
