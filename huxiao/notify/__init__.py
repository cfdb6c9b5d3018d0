"""Notifications: one entry point (`services.notify_send`) behind which the in-app inbox, SMS
gateway, WeCom and DingTalk group robots, email and generic webhooks are delivered."""
