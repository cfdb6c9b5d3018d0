from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    INBOX = "inbox", _("In-app inbox")
    SMS = "sms", _("SMS gateway")
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")


# The inbox needs no configuration: it is addressed to users, not to an organization's channel.
CONFIGURABLE_KINDS = frozenset(ChannelKind.values) - {ChannelKind.INBOX}
URL_KINDS = frozenset(
    {ChannelKind.SMS, ChannelKind.WECOM, ChannelKind.DINGTALK, ChannelKind.WEBHOOK}
)
# Kinds that cannot work without a secret: the SMS gateway's API key, the webhook's signing key.
SECRET_REQUIRED_KINDS = frozenset({ChannelKind.SMS, ChannelKind.WEBHOOK})
# Kinds that use one: DingTalk signs when its robot has "加签" security turned on.
SECRET_KINDS = SECRET_REQUIRED_KINDS | {ChannelKind.DINGTALK}


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # Not sent, and never will be: what it said stopped being true before it went out (an
    # alarm "not acknowledged" that was acknowledged meanwhile).
    WITHDRAWN = "withdrawn", _("Withdrawn (no longer true)")


OPEN_STATUSES = frozenset({DeliveryStatus.PENDING, DeliveryStatus.RETRYING})
