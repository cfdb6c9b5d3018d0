"""Give a user a role in an organization (until an administration page exists)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from huxiao.core.roles import Role
from huxiao.orgs.models import Organization
from huxiao.orgs.services import membership_grant


class Command(BaseCommand):
    help = "Grant USER the ROLE in the organization ORG_ID (audited as a system change)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("organization_id", type=int)
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--title", default="")

    def handle(self, *args, username, organization_id, role, title, **options):
        user = get_user_model().objects.filter(username=username).first()
        organization = Organization.objects.filter(pk=organization_id).first()
        if user is None or organization is None:
            raise CommandError("Unknown user or organization")
        try:
            membership = membership_grant(
                actor=None, user=user, organization=organization, role=role, title=title
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{membership} (id {membership.pk})")
