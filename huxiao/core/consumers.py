from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from huxiao.core.events import groups_for_membership


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """Pushes events of the groups the user's memberships entitle them to."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = await self._groups(user)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"event": "hello", "groups": len(self.groups_joined)})

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"event": "pong"})

    async def huxiao_event(self, message):
        await self.send_json({"event": message["event"], "payload": message["payload"]})

    @database_sync_to_async
    def _groups(self, user) -> list[str]:
        from huxiao.core.scoping import memberships_of

        groups: list[str] = []
        for membership in memberships_of(user):
            for group in groups_for_membership(membership):
                if group not in groups:
                    groups.append(group)
        return groups
