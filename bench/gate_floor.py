"""The floor of bench/gate.py: a bare Django view that parses the check-in's JSON body and
inserts one row, with no middleware, no authentication, no scoping, no validation beyond
the JSON, no screening, no audit row and no event. Also the URLconf of
bench/gate_floor_settings.py. Its table is made by bench/gate_seed.py (no migration: the
bench is not an app).
"""

from __future__ import annotations

import json

from django.db import models
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone


class GateFloorRow(models.Model):
    """One row per floor request: the check-in's fields as sent."""

    name = models.CharField(max_length=50)
    id_number = models.CharField(max_length=18)
    phone = models.CharField(max_length=20)
    purpose = models.CharField(max_length=20)
    host_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        app_label = "bench_gate"
        db_table = "bench_gate_floor_row"
        managed = False

    def __str__(self) -> str:
        return self.name


def insert(request):
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        data = json.loads(request.body)
        row = GateFloorRow.objects.create(
            name=str(data["name"])[:50],
            id_number=str(data["id_number"])[:18],
            phone=str(data["phone"])[:20],
            purpose=str(data["purpose"])[:20],
            host_id=int(data["host_id"]),
            created_at=timezone.now(),
        )
    except (ValueError, KeyError, TypeError):
        return HttpResponse(status=400)
    return HttpResponse(
        json.dumps({"id": row.pk}), status=201, content_type="application/json; charset=utf-8"
    )


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/gate/insert", insert),  # FLOOR_PATH of bench/gate.py
    path("healthz", healthz),
]
