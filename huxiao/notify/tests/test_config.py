"""Channel configuration: validation, who may change it, secrets encrypted and kept out of
the audit trail."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.notify import services
from huxiao.notify.models import ChannelConfig
from huxiao.notify.validation import display_target
from huxiao.orgs.tests.factories import UserFactory

ROBOT_URL = "https://oapi.dingtalk.com/robot/send?access_token=TOKEN-0123456789abcdef"
SECRET = "SEC-very-secret-signing-key"


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


def test_secrets_encrypted_at_rest_and_absent_from_audit_rows(world, admin):
    config = services.channel_config_create(
        actor=admin,
        organization=world.school,
        kind="dingtalk",
        name="本园安全群",
        target=ROBOT_URL,
        secret=SECRET,
        phones=["13800000001"],
    )
    config.refresh_from_db()
    stored = (config.target_encrypted, config.secret_encrypted)
    assert config.target_encrypted.startswith("v1:") and config.secret_encrypted.startswith("v1:")
    assert "TOKEN-0123456789abcdef" not in config.target_encrypted
    assert SECRET not in config.secret_encrypted
    assert (config.get_target(), config.get_secret()) == (ROBOT_URL, SECRET)
    assert config.target_display == "https://oapi.dingtalk.com/…cdef"

    new_secret = "SEC-rotated-signing-key"
    before_change = config.credentials_changed_at
    services.channel_config_update(actor=admin, config=config, secret=new_secret)
    config.refresh_from_db()
    assert config.get_secret() == new_secret
    assert config.credentials_changed_at > before_change
    services.channel_config_update(actor=admin, config=config, name="新名字", is_active=False)
    services.channel_config_delete(actor=admin, config=config)

    events = AuditEvent.objects.filter(object_type="notify.channelconfig").order_by("at", "id")
    assert [e.action for e in events] == [
        AuditAction.CREATE,
        AuditAction.UPDATE,
        AuditAction.UPDATE,
        AuditAction.DELETE,
    ]
    assert all(e.school_id == world.school.pk for e in events)
    # A replaced secret leaves a trace, without its value.
    assert list(events[1].changes["fields"]) == ["credentials_changed_at"]
    trail = json.dumps([e.changes for e in AuditEvent.objects.all()], ensure_ascii=False)
    for leaked in (SECRET, new_secret, "TOKEN-0123456789abcdef", *stored, "_encrypted"):
        assert leaked not in trail
    assert "https://oapi.dingtalk.com/…cdef" in trail


def test_only_administrators_configure_channels(world):
    with pytest.raises(PermissionDenied):
        services.channel_config_create(
            actor=world.users["principal"],
            organization=world.school,
            kind="wecom",
            name="x",
            target="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        )
    assert not ChannelConfig.objects.exists()
    assert not AuditEvent.objects.filter(object_type="notify.channelconfig").exists()


@pytest.mark.parametrize(
    "kind, target, secret, phones, bad_fields",
    [
        ("inbox", "https://x.example/", "", [], {"kind"}),
        ("fax", "https://x.example/", "", [], {"kind"}),
        ("wecom", "ftp://x.example/", "", [], {"target"}),
        ("wecom", "javascript:alert(1)", "", [], {"target"}),
        ("wecom", "", "", [], {"target"}),
        ("sms", "https://sms.example/send", "", [], {"secret"}),
        ("webhook", "https://hooks.example/", "  ", [], {"secret"}),
        ("email", "duty@example.com, not-an-address", "", [], {"target"}),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send", "", ["12ab"], {"phones"}),
    ],
)
def test_validation(world, kind, target, secret, phones, bad_fields):
    with pytest.raises(ValidationError) as caught:
        services.channel_config_create(
            actor=None,
            organization=world.station,
            kind=kind,
            name="名称",
            target=target,
            secret=secret,
            phones=phones,
        )
    assert set(caught.value.message_dict) == bad_fields
    assert not ChannelConfig.objects.exists()


def test_normalised_values(world):
    config = services.channel_config_create(
        actor=None,
        organization=world.station,
        kind="email",
        name="  值班邮箱 ",
        target="a@example.com; b@example.com\na@example.com",
        phones="138-0000-0001, 13800000001，+8613900000002",
    )
    assert config.name == "值班邮箱"
    assert config.get_target() == "a@example.com, b@example.com"
    assert config.target_display == "a@example.com, b@example.com"
    assert config.phones == ["13800000001", "+8613900000002"]
    # A secret is meaningless for email and is not stored.
    assert not config.has_secret


def test_update_keeps_what_is_not_given(world):
    config = services.channel_config_create(
        actor=None,
        organization=world.station,
        kind="sms",
        name="短信",
        target="https://sms.example/send",
        secret="key-1",
    )
    services.channel_config_update(actor=None, config=config, phones=["13800000001"])
    config.refresh_from_db()
    assert (config.get_target(), config.get_secret()) == ("https://sms.example/send", "key-1")
    with pytest.raises(ValidationError) as caught:
        services.channel_config_update(actor=None, config=config, secret="")
    assert set(caught.value.message_dict) == {"secret"}


@pytest.mark.parametrize(
    "kind, target, shown",
    [
        (
            "wecom",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd-1234",
            "https://qyapi.weixin.qq.com/…1234",
        ),
        ("webhook", "http://user:pw@10.0.0.5:8080/hooks/XYZ9", "http://10.0.0.5:8080/…XYZ9"),
    ],
)
def test_display_target_hides_credentials(kind, target, shown):
    assert display_target(kind, target) == shown


def test_management_command(world, monkeypatch):
    from io import StringIO

    from django.core.management import CommandError, call_command

    monkeypatch.setenv("HX_SMS_KEY", "sms-key-from-env")
    out = StringIO()
    call_command(
        "notify_channel",
        "add",
        str(world.station.pk),
        "sms",
        "值班短信",
        "--target",
        "https://sms.example/send?token=abcdefgh",
        "--phones",
        "13800000001,13900000002",
        "--secret-env",
        "HX_SMS_KEY",
        stdout=out,
    )
    config = ChannelConfig.objects.get()
    assert config.get_secret() == "sms-key-from-env"
    assert config.phones == ["13800000001", "13900000002"]
    call_command("notify_channel", "disable", str(config.pk))
    config.refresh_from_db()
    assert not config.is_active
    out = StringIO()
    call_command("notify_channel", "list", stdout=out)
    assert "https://sms.example/…efgh" in out.getvalue()
    assert "abcdefgh" not in out.getvalue() and "sms-key" not in out.getvalue()
    with pytest.raises(CommandError):
        call_command(
            "notify_channel", "add", str(world.station.pk), "sms", "x", "--target", "https://s/"
        )
    call_command("notify_channel", "delete", str(config.pk))
    assert not ChannelConfig.objects.exists()
