"""Signed codes for the gate's QR codes: passes, visitor badges and invitations, pick-up
cards and rotating pick-up codes (issue 5, ADR 0022).

A code reads `HX1.<KIND>.<SCHOOL>.<IDENT>.<STAMP>.<SIG>`: only upper-case letters, digits
and dots, so that a QR code holds it in alphanumeric mode and a keyboard-wedge scanner
types it the same under any keyboard layout. SCHOOL binds it to one school, STAMP is an
expiry (Unix seconds) or a time step, SIG an HMAC-SHA256 (Django's `salted_hmac`, keyed
by SECRET_KEY, so SECRET_KEY_FALLBACKS keep printed cards valid across a key rotation)
over everything before it, truncated to 120 bits. Revocation, one-time use and who holds
the code live in the database: callers check them after `verify`.

Scanner noise — a prefix or suffix typed by the scanner, a trailing newline, lower case,
spaces — is tolerated by `extract`; a partial read is refused as malformed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

from huxiao.access.choices import RefusalReason

VERSION = "HX1"
# One letter per kind of code.
PASS = "P"  # noqa: S105 - the letter of a gate pass code, not a secret
BADGE = "B"
INVITATION = "I"
PICKUP_CARD = "K"
PICKUP_ROTATING = "R"
KINDS = frozenset({PASS, BADGE, INVITATION, PICKUP_CARD, PICKUP_ROTATING})

_SALT = "huxiao.access.codes"
_SIG_BYTES = 15  # 120 bits, 24 base32 characters
_CODE_RE = re.compile(
    r"HX1\.([A-Z])\.([0-9]{1,10})\.([A-Z0-9]{4,40})\.([0-9]{1,12})\.([A-Z2-7]{24})"
)
MAX_INPUT = 200  # longer than any code with generous scanner noise; the rest is ignored


class CodeRefused(Exception):
    """A code that cannot be accepted; `reason` is a RefusalReason (shown to the guard)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Code:
    kind: str
    school_id: int
    ident: str
    stamp: int


def new_serial() -> str:
    """A random identifier for a code (80 bits, base32)."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii")


def _signature(body: str, key: bytes | None = None) -> str:
    if key is None:
        digest = salted_hmac(_SALT, body, algorithm="sha256").digest()
    else:
        digest = hmac.new(key, body.encode(), "sha256").digest()
    return base64.b32encode(digest[:_SIG_BYTES]).decode("ascii")


def _fallback_signatures(body: str) -> list[str]:
    return [
        base64.b32encode(
            salted_hmac(_SALT, body, secret=secret, algorithm="sha256").digest()[:_SIG_BYTES]
        ).decode("ascii")
        for secret in getattr(settings, "SECRET_KEY_FALLBACKS", ())
    ]


def make(kind: str, school_id: int, ident: str, stamp: int, *, key: bytes | None = None) -> str:
    """The code's text. `key`: a per-record key (rotating pick-up codes); default the
    deployment's."""
    if kind not in KINDS:
        raise ValueError(f"unknown code kind {kind!r}")
    if not re.fullmatch(r"[A-Z0-9]{4,40}", ident):
        raise ValueError("ident must be 4–40 upper-case letters or digits")
    body = f"{VERSION}.{kind}.{int(school_id)}.{ident}.{int(stamp)}"
    return f"{body}.{_signature(body, key)}"


def extract(text: str) -> str:
    """The code inside what a scanner or a person typed, or CodeRefused(MALFORMED)."""
    cleaned = re.sub(r"\s+", "", str(text or "")[:MAX_INPUT]).upper()
    found = _CODE_RE.search(cleaned)
    if found is None:
        raise CodeRefused(RefusalReason.MALFORMED)
    return found.group(0)


def parse(text: str) -> tuple[Code, str, str]:
    """(code, signed body, signature) without checking the signature."""
    code_text = extract(text)
    kind, school, ident, stamp, sig = _CODE_RE.fullmatch(code_text).groups()
    if kind not in KINDS:
        raise CodeRefused(RefusalReason.MALFORMED)
    body = code_text[: -len(sig) - 1]
    return Code(kind, int(school), ident, int(stamp)), body, sig


def verify(
    text: str,
    *,
    kinds: set[str] | frozenset[str],
    school_id: int,
    now: dt.datetime | None = None,
    key: bytes | None = None,
    expires: bool = True,
) -> Code:
    """Check a scanned code: well formed, of an expected kind, signed by us (or with `key`),
    for `school_id`, and — when its stamp is an expiry (`expires`) — not expired.

    The order matters for what the guard is told: a forged code is "forged" whatever it
    claims; only a genuine code of another school is "another school"."""
    code, body, sig = parse(text)
    if code.kind not in kinds:
        raise CodeRefused(RefusalReason.UNKNOWN)
    expected = [_signature(body, key)] + ([] if key is not None else _fallback_signatures(body))
    if not any(hmac.compare_digest(sig, candidate) for candidate in expected):
        raise CodeRefused(RefusalReason.FORGED)
    if code.school_id != int(school_id):
        raise CodeRefused(RefusalReason.OTHER_SCHOOL)
    if expires:
        moment = now or dt.datetime.now(tz=dt.UTC)
        if code.stamp < int(moment.timestamp()):
            raise CodeRefused(RefusalReason.EXPIRED)
    return code


def expiry_stamp(moment: dt.datetime) -> int:
    return int(moment.timestamp())
