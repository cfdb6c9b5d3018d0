"""The transport API: one router made of each area's."""

from ninja import Router

router = Router()
