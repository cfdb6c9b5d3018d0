import datetime as dt

import factory

from huxiao.core.idcard import make_id_number
from huxiao.orgs.tests.factories import SchoolFactory
from huxiao.people.models import Child, Guardian, SchoolClass, Staff


class SchoolClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolClass

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"小{n}班")
    grade = "小班"


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Child
        skip_postgeneration_save = True

    school_class = factory.SubFactory(SchoolClassFactory)
    school = factory.LazyAttribute(lambda o: o.school_class.school)
    name = factory.Sequence(lambda n: f"幼儿{n}")
    gender = "female"
    birth_date = dt.date(2021, 3, 4)

    @factory.post_generation
    def id_number(obj, create, extracted, **kwargs):
        number = extracted or make_id_number("110101", obj.birth_date, obj.pk or 1)
        obj.set_id_number(number)
        if create:
            obj.save(update_fields=["id_number_encrypted", "id_number_hash", "id_number_masked"])


class GuardianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardian

    child = factory.SubFactory(ChildFactory)
    name = factory.Sequence(lambda n: f"家长{n}")
    relationship = "mother"
    phone = "13800138000"


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"教职工{n}")
    role = "teacher"
    phone = "13900139000"
