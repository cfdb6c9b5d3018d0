"""Data-key rotation: encrypt with key A, rotate to key B, drop A, everything decrypts."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from huxiao.accounts.models import TwoFactor
from huxiao.audit.models import AuditEvent
from huxiao.core import crypto
from huxiao.people.models import Staff

pytestmark = pytest.mark.django_db

KEY_A = "rotation-test-key-a-0000000000000000000000"
KEY_B = "rotation-test-key-b-1111111111111111111111"
HASH = "rotation-test-hash-key-22222222222222222222"


def _run(*args) -> str:
    out = io.StringIO()
    call_command("rotate_data_key", *args, stdout=out)
    return out.getvalue()


def test_rotate_then_drop_the_old_key(world, settings):
    # The world's own encrypted rows (ID numbers) were written with the test key: a third
    # key, kept as old during the rotation like any other.
    test_key = settings.HUXIAO_DATA_KEY
    with override_settings(HUXIAO_DATA_KEY=KEY_A, HUXIAO_DATA_KEYS_OLD=[], HUXIAO_HASH_KEY=HASH):
        key_a = crypto.current_key_id()
        staff = world.staff
        staff.set_id_number("110101199003071234")
        staff.save()
        hash_before = staff.id_number_hash
        secrets_ = [
            TwoFactor.objects.create(user=u, secret_encrypted=crypto.encrypt(f"SECRET{i:04d}"))
            for i, u in enumerate(world.users.values())
        ]
    rotating = override_settings(
        HUXIAO_DATA_KEY=KEY_B, HUXIAO_DATA_KEYS_OLD=[KEY_A, test_key], HUXIAO_HASH_KEY=HASH
    )
    with rotating:
        key_b = crypto.current_key_id()
        assert key_b != key_a
        dry = _run("--dry-run")
        assert f"accounts.TwoFactor.secret_encrypted: {len(secrets_)} to re-encrypt" in dry
        assert f"{key_a}: {len(secrets_)}" in dry
        # A dry run changes nothing.
        assert crypto.key_id_of(TwoFactor.objects.first().secret_encrypted) == key_a
        out = _run("--batch-size", "3")  # several batches
        assert "old keys may be removed" in out
        assert "0 not under the current key" in out
        assert AuditEvent.objects.filter(object_type="core.datakey").exists()
        # Resumable and idempotent: a second run finds nothing to do.
        assert "Done: 0 re-encrypted, 0 failed" in _run()
    with override_settings(HUXIAO_DATA_KEY=KEY_B, HUXIAO_DATA_KEYS_OLD=[], HUXIAO_HASH_KEY=HASH):
        for row in TwoFactor.objects.all():
            assert crypto.key_id_of(row.secret_encrypted) == key_b
        assert sorted(crypto.decrypt(r.secret_encrypted) for r in TwoFactor.objects.all()) == [
            f"SECRET{i:04d}" for i in range(len(secrets_))
        ]
        staff = Staff.objects.get(pk=staff.pk)
        assert crypto.decrypt(staff.id_number_encrypted) == "110101199003071234"
        # The lookup hash does not change with the data key.
        assert staff.id_number_hash == hash_before


def test_values_under_a_lost_key_are_reported_not_lost(world):
    with override_settings(HUXIAO_DATA_KEY=KEY_A, HUXIAO_DATA_KEYS_OLD=[], HUXIAO_HASH_KEY=HASH):
        TwoFactor.objects.create(user=world.users["police"], secret_encrypted=crypto.encrypt("X"))
    # Key A was dropped too early: the row cannot be re-encrypted and stays as it was.
    lost = override_settings(
        HUXIAO_DATA_KEY=KEY_B, HUXIAO_DATA_KEYS_OLD=["another"], HUXIAO_HASH_KEY=HASH
    )
    with lost, pytest.raises(CommandError, match="Keep the old keys"):
        _run()
    with override_settings(HUXIAO_DATA_KEY=KEY_A, HUXIAO_DATA_KEYS_OLD=[], HUXIAO_HASH_KEY=HASH):
        assert crypto.decrypt(TwoFactor.objects.get().secret_encrypted) == "X"


def test_refuses_when_the_hash_key_would_follow_the_data_key():
    unsafe = override_settings(
        HUXIAO_DATA_KEY=KEY_B, HUXIAO_DATA_KEYS_OLD=[KEY_A], HUXIAO_HASH_KEY=KEY_B
    )
    with unsafe, pytest.raises(CommandError, match="HUXIAO_HASH_KEY"):
        _run()
