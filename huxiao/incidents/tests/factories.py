import factory
from django.utils import timezone

from huxiao.incidents.choices import GroupKind
from huxiao.incidents.models import Incident, ResponseGroup
from huxiao.orgs.tests.factories import SchoolFactory


class IncidentFactory(factory.django.DjangoModelFactory):
    """An incident without an alarm (e.g. reported by phone), with its four groups."""

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    school = factory.SubFactory(SchoolFactory)
    title = factory.Sequence(lambda n: f"事件{n}")
    opened_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def groups(obj, create, extracted, **kwargs):
        if create:
            ResponseGroup.objects.bulk_create(
                ResponseGroup(incident=obj, kind=kind) for kind in GroupKind.values
            )
