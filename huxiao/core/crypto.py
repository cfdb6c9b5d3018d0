"""Encryption at rest and keyed hashes for sensitive identifiers (ADR 0004).

AES-256-GCM with a key derived (HKDF-SHA256) from HUXIAO_DATA_KEY; a second derived key
gives an HMAC-SHA256 for exact lookup without decrypting. The ciphertext names the key it
was made with, so old keys (HUXIAO_DATA_KEYS_OLD) still decrypt during a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_VERSION = "v1"


class DecryptionError(Exception):
    """The ciphertext is damaged or was made with a key this deployment no longer has."""


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"huxiao", info=info).derive(
        secret.encode()
    )


@lru_cache(maxsize=8)
def _keys(
    current: str, old: tuple[str, ...], hash_secret: str
) -> tuple[str, dict[str, AESGCM], bytes]:
    ring: dict[str, AESGCM] = {}
    current_id = ""
    for index, secret in enumerate((current, *old)):
        enc_key = _derive(secret, b"huxiao-encrypt-v1")
        key_id = hashlib.sha256(enc_key).hexdigest()[:8]
        ring[key_id] = AESGCM(enc_key)
        if index == 0:
            current_id = key_id
    hash_key = _derive(hash_secret, b"huxiao-lookup-hash-v1")
    return current_id, ring, hash_key


def _keyring():
    return _keys(
        settings.HUXIAO_DATA_KEY, tuple(settings.HUXIAO_DATA_KEYS_OLD), settings.HUXIAO_HASH_KEY
    )


def encrypt(plaintext: str) -> str:
    key_id, ring, _ = _keyring()
    nonce = os.urandom(12)
    sealed = ring[key_id].encrypt(nonce, plaintext.encode(), key_id.encode())
    return f"{_VERSION}:{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str) -> str:
    try:
        version, key_id, payload = token.split(":", 2)
        if version != _VERSION:
            raise DecryptionError("unknown version")
        _, ring, _ = _keyring()
        cipher = ring.get(key_id)
        if cipher is None:
            raise DecryptionError("unknown key")
        raw = base64.urlsafe_b64decode(payload.encode())
        return cipher.decrypt(raw[:12], raw[12:], key_id.encode()).decode()
    except DecryptionError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure means the same thing here
        raise DecryptionError(str(exc)) from exc


def lookup_hash(value: str) -> str:
    """Keyed hash for exact lookup; equal inputs give equal hashes, nothing else leaks."""
    _, _, hash_key = _keyring()
    return hmac.new(hash_key, value.encode(), hashlib.sha256).hexdigest()


def current_key_id() -> str:
    """The id of HUXIAO_DATA_KEY: what `encrypt` writes into every new ciphertext."""
    return _keyring()[0]


def key_id_of(token: str) -> str:
    """The key id a ciphertext names ("" for something that is not one of ours)."""
    version, _sep, rest = (token or "").partition(":")
    return rest.split(":", 1)[0] if version == _VERSION and ":" in rest else ""


def reencrypt(token: str) -> str:
    """The same plaintext under the current key (unchanged if it already is)."""
    if key_id_of(token) == current_key_id():
        return token
    return encrypt(decrypt(token))
