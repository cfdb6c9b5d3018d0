"""Bridge MQTT alarm boxes to the alarm service (ADR 0012).

Runs until SIGTERM or SIGINT; `manage.py serve` starts it when HUXIAO_MQTT_URL is set.
"""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand, CommandError

from huxiao.alarms.mqtt import (
    ALARM_TOPIC_FILTER,
    MqttBridge,
    configured_client_id,
    configured_url,
)


class Command(BaseCommand):
    help = (
        "Subscribe to huxiao/devices/+/alarm on the MQTT broker, raise the alarms and "
        "acknowledge on huxiao/devices/<id>/ack. Runs until SIGTERM/SIGINT."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url",
            default="",
            help="Broker URL, e.g. mqtt://127.0.0.1:1883 (default: HUXIAO_MQTT_URL).",
        )
        parser.add_argument(
            "--client-id",
            default="",
            help="MQTT client id; the broker keeps this id's session and queues alarms "
            "while the bridge is away (default: HUXIAO_MQTT_CLIENT_ID or huxiao-bridge).",
        )

    def handle(self, *args, url: str, client_id: str, **options):
        url = url or configured_url()
        if not url:
            raise CommandError("No MQTT broker configured: set HUXIAO_MQTT_URL or pass --url.")
        try:
            bridge = MqttBridge(url, client_id=client_id or configured_client_id())
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        def _stop(signum, frame):
            bridge.stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        self.stdout.write(
            f"MQTT bridge: {bridge.broker} as {bridge.client_id}, listening on "
            f"{ALARM_TOPIC_FILTER}",
        )
        self.stdout.flush()
        bridge.run()
