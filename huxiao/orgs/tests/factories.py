import factory
from django.contrib.auth import get_user_model

from huxiao.core.roles import OrgKind
from huxiao.orgs.models import Membership, Organization, Region, Town


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    name = factory.Sequence(lambda n: f"测试县{n}")
    code = factory.Sequence(lambda n: f"R{n:06d}")


class TownFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Town

    region = factory.SubFactory(RegionFactory)
    name = factory.Sequence(lambda n: f"测试镇{n}")
    code = factory.Sequence(lambda n: f"T{n:06d}")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    kind = OrgKind.EDUCATION_OFFICE
    name = factory.Sequence(lambda n: f"机构{n}")
    town = factory.SubFactory(TownFactory)
    region = factory.LazyAttribute(lambda o: o.town.region if o.town else RegionFactory())


class SchoolFactory(OrganizationFactory):
    kind = OrgKind.KINDERGARTEN
    name = factory.Sequence(lambda n: f"测试幼儿园{n}")
    stage = "kindergarten"
    ownership = "public"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "pw-test-123")
        if create:
            obj.save(update_fields=["password"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(SchoolFactory)
    role = "principal"
