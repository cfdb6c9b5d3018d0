"""Upload → check → import, through the services; atomicity, scope, exports and templates."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.core.crypto import lookup_hash
from huxiao.imports import services
from huxiao.imports.choices import ImportKind, ImportStatus
from huxiao.imports.models import ImportJob
from huxiao.imports.tests.sheets import (
    CHILD_HEADER,
    child_id,
    child_rows,
    read_sheet,
    upload,
    xlsx,
)
from huxiao.people.models import Child, Guardian, SchoolClass, Staff


def test_children_import_end_to_end(world, run_job):
    principal = world.users["principal"]
    job = run_job(
        actor=principal,
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(5)),
    )
    assert job.status == ImportStatus.READY
    assert (job.total_rows, job.processed_rows, job.error_count) == (5, 5, 0)
    assert len(job.preview) == 5
    # The rows read are kept sealed until imported (they hold plain ID numbers); the
    # spreadsheet itself is dropped once checked.
    assert job.file_encrypted == ""
    assert job.rows_encrypted.startswith("v1:")
    assert child_id(3) in job.read_rows() and child_id(3) not in job.rows_encrypted

    job = services.import_job_commit(actor=principal, job=job)

    assert job.status == ImportStatus.DONE
    assert job.created_count == 5
    assert job.finished_at is not None
    assert job.rows_encrypted == ""  # the plain roster is not kept once imported
    children = Child.objects.filter(school=world.school).exclude(pk=world.child.pk)
    assert children.count() == 5
    child = children.get(id_number_hash=lookup_hash(child_id(3)))
    assert child.school_class == world.school_class
    assert child.id_number_encrypted.startswith("v1:")
    assert child_id(3) not in child.id_number_encrypted
    assert child.decrypt_id_number() == child_id(3)
    assert child.id_number_masked == child_id(3)[:4] + "*" * 10 + child_id(3)[-4:]
    created = AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="people.child", school=world.school
    )
    assert created.count() == 5
    assert "id_number_encrypted" not in created.first().changes["after"]
    summary = AuditEvent.objects.get(
        action=AuditAction.IMPORT, object_type="imports.importjob", object_id=str(job.pk)
    )
    assert summary.changes["created"] == 5
    assert summary.actor == principal
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="imports.importjob", object_id=str(job.pk)
    ).exists()


def test_errors_leave_nothing_written_and_no_commit(world, run_job):
    principal = world.users["principal"]
    rows = child_rows(3) + [["不存在班", "乙", "女", child_id(50), None]]
    job = run_job(
        actor=principal,
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, rows),
    )
    assert job.status == ImportStatus.FAILED_VALIDATION
    assert job.error_count == 1
    assert job.errors[0]["row"] == 5
    assert job.file_encrypted == job.rows_encrypted == ""
    with pytest.raises(ValidationError):
        services.import_job_commit(actor=principal, job=job)
    assert Child.objects.filter(school=world.school).count() == 1


def test_commit_is_atomic(world, run_job, monkeypatch):
    principal = world.users["principal"]
    job = run_job(
        actor=principal,
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(1200)),
    )
    assert job.status == ImportStatus.READY
    audits_before = AuditEvent.objects.count()

    def explode(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "audit_bulk_create", explode)
    job = services.import_job_commit(actor=principal, job=job)

    assert job.status == ImportStatus.FAILED
    assert "nothing was written" in job.message or job.message
    assert job.created_count == 0
    assert Child.objects.filter(school=world.school).count() == 1
    # Only the record of the failed attempt is added to the trail.
    new_events = AuditEvent.objects.order_by("id")[audits_before:]
    assert [(e.action, e.object_type) for e in new_events] == [
        (AuditAction.IMPORT, "imports.importjob")
    ]
    assert new_events[0].changes["created"] == 0


def test_scope_recheck_rolls_back(world, run_job, monkeypatch):
    principal = world.users["principal"]
    job = run_job(
        actor=principal,
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(3)),
    )
    # Simulate a write that lands at another school: the re-check must catch it.
    original = services._build_child

    def misplaced(job, values):
        child = original(job, values)
        child.school_id = world.other_school.pk
        return child

    monkeypatch.setitem(services._BUILDERS, ImportKind.CHILDREN, misplaced)
    job = services.import_job_commit(actor=principal, job=job)
    assert job.status == ImportStatus.FAILED
    assert not Child.objects.filter(school=world.other_school, name__startswith="孩子").exists()


def test_roster_changed_between_check_and_import(world, run_job):
    principal = world.users["principal"]
    job = run_job(
        actor=principal,
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(3)),
    )
    SchoolClass.objects.filter(pk=world.school_class.pk).update(name="改名了")
    job = services.import_job_commit(actor=principal, job=job)
    assert job.status == ImportStatus.FAILED_VALIDATION
    assert job.error_count == 3
    assert "changed" in job.message
    assert Child.objects.filter(school=world.school).count() == 1


def test_confirm_runs_the_import_once(world, run_job, django_capture_on_commit_callbacks):
    principal = world.users["principal"]
    job = run_job(
        actor=principal,
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(2)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_confirm(actor=principal, job=job)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    with pytest.raises(ValidationError):
        services.import_job_confirm(actor=principal, job=job)
    with pytest.raises(ValidationError):
        services.import_job_commit(actor=principal, job=job)
    assert Child.objects.filter(school=world.school).count() == 3


def test_guardians_import(world, run_job):
    principal = world.users["principal"]
    header = [
        "幼儿身份证号",
        "监护人姓名",
        "关系",
        "电话",
        "可接送(是/否)",
        "主要联系人(是/否)",
        "监护人身份证号(可选)",
    ]
    rows = [
        [
            world.child.decrypt_id_number(),
            "王爸爸",
            "父亲",
            "13800000001",
            "是",
            "是",
            "110101199001010015",
        ],
        [world.child.decrypt_id_number(), "王奶奶", "奶奶", "13800000002", "否", "", ""],
    ]
    job = run_job(
        actor=principal, school=world.school, kind=ImportKind.GUARDIANS, data=xlsx(header, rows)
    )
    assert job.status == ImportStatus.READY, job.errors
    job = services.import_job_commit(actor=principal, job=job)
    assert job.status == ImportStatus.DONE
    dad = Guardian.objects.get(child=world.child, name="王爸爸")
    assert (dad.relationship, dad.can_pick_up, dad.is_primary) == ("father", True, True)
    assert dad.decrypt_id_number() == "110101199001010015"
    grandma = Guardian.objects.get(child=world.child, name="王奶奶")
    assert (grandma.relationship, grandma.can_pick_up, grandma.id_number_hash) == (
        "grandmother",
        False,
        "",
    )
    assert (
        AuditEvent.objects.filter(object_type="people.guardian", school=world.school).count() == 2
    )


def test_staff_import(world, run_job):
    principal = world.users["principal"]
    header = ["姓名", "岗位", "电话", "身份证号(可选)", "背景审查", "审查日期"]
    rows = [
        ["张保安", "保安", "13900000001", "110101199001010015", "通过", "2024-08-20"],
        ["刘厨师", "厨师", "", "", "", ""],
    ]
    job = run_job(
        actor=principal, school=world.school, kind=ImportKind.STAFF, data=xlsx(header, rows)
    )
    job = services.import_job_commit(actor=principal, job=job)
    assert job.status == ImportStatus.DONE, job.errors
    guard = Staff.objects.get(school=world.school, name="张保安")
    assert (guard.role, guard.background_check, str(guard.background_checked_on)) == (
        "guard",
        "passed",
        "2024-08-20",
    )
    cook = Staff.objects.get(school=world.school, name="刘厨师")
    assert (cook.role, cook.background_check, cook.phone) == ("cook", "not_done", "")


def test_classes_import(world, run_job):
    principal = world.users["principal"]
    rows = [["大一班", "大班", "李老师"], ["中一班", "中班", None]]
    job = run_job(
        actor=principal,
        school=world.school,
        kind=ImportKind.CLASSES,
        data=xlsx(["班级名称", "年级", "班主任(可选)"], rows),
    )
    job = services.import_job_commit(actor=principal, job=job)
    assert job.status == ImportStatus.DONE, job.errors
    big = SchoolClass.objects.get(school=world.school, name="大一班")
    assert big.head_teacher == world.staff
    assert SchoolClass.objects.get(school=world.school, name="中一班").head_teacher is None


@pytest.mark.parametrize("username", ["guard", "teacher", "police", "principal2", "county", "edu"])
def test_only_importers_of_the_school_may_upload(world, username):
    with pytest.raises(PermissionDenied):
        services.import_job_create(
            actor=world.users[username],
            school=world.school,
            kind=ImportKind.CHILDREN,
            uploaded_file=upload(xlsx(CHILD_HEADER, child_rows(1))),
        )
    assert not ImportJob.objects.exists()


def test_commit_requires_the_role(world, run_job):
    job = run_job(
        actor=world.users["principal"],
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(1)),
    )
    for username in ("principal2", "guard", "police"):
        with pytest.raises(PermissionDenied):
            services.import_job_commit(actor=world.users[username], job=job)
    job.refresh_from_db()
    assert job.status == ImportStatus.READY


def test_upload_rejects_garbage_and_oversized_files(world, settings):
    principal = world.users["principal"]
    with pytest.raises(ValidationError) as garbage:
        services.import_job_create(
            actor=principal,
            school=world.school,
            kind=ImportKind.CHILDREN,
            uploaded_file=upload(b"\x13\x37random bytes" * 50),
        )
    assert "not an Excel workbook" in str(garbage.value.message_dict["file"])
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as big:
        services.import_job_create(
            actor=principal,
            school=world.school,
            kind=ImportKind.CHILDREN,
            uploaded_file=upload(xlsx(CHILD_HEADER, child_rows(3))),
        )
    assert "larger than" in str(big.value.message_dict["file"])
    assert not ImportJob.objects.exists()


def test_validation_progress_is_recorded(world, django_capture_on_commit_callbacks, monkeypatch):
    from huxiao.imports import validation

    seen = []

    monkeypatch.setattr(validation, "PROGRESS_EVERY", 2)
    original = services.validate_workbook

    def spy(**kwargs):
        progress = kwargs["on_progress"]

        def record(done, total):
            progress(done, total)
            seen.append(
                ImportJob.objects.values_list("processed_rows", "total_rows", "status").get()
            )

        kwargs["on_progress"] = record
        return original(**kwargs)

    monkeypatch.setattr(services, "validate_workbook", spy)
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_create(
            actor=world.users["principal"],
            school=world.school,
            kind=ImportKind.CHILDREN,
            uploaded_file=upload(xlsx(CHILD_HEADER, child_rows(6))),
        )
    assert seen == [(2, 6, "validating"), (4, 6, "validating"), (6, 6, "validating")]


def test_export_masks_id_numbers_and_is_audited(world):
    teacher = world.users["teacher"]
    data = services.roster_export(actor=teacher, school=world.school, kind=ImportKind.CHILDREN)
    rows = read_sheet(data)
    assert rows[0] == tuple(CHILD_HEADER)
    full = world.child.decrypt_id_number()
    assert rows[1][:3] == ("小一班", "王小明", "女")
    assert rows[1][3] == world.child.id_number_masked != full
    assert full not in data.decode("latin-1")
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.object_type, event.school_id, event.changes) == (
        "people.child",
        world.school.pk,
        {"kind": "children", "rows": 1},
    )


def test_guardian_and_staff_exports(world):
    principal = world.users["principal"]
    guardians = read_sheet(
        services.roster_export(actor=principal, school=world.school, kind=ImportKind.GUARDIANS)
    )
    assert guardians[0][:4] == ("幼儿身份证号", "监护人姓名", "关系", "电话")
    assert guardians[1][0] == world.child.id_number_masked
    assert guardians[1][1:3] == ("王妈妈", "母亲")
    assert guardians[1][-2:] == ("王小明", "小一班")
    staff = read_sheet(
        services.roster_export(actor=principal, school=world.school, kind=ImportKind.STAFF)
    )
    assert staff[0] == ("姓名", "岗位", "电话", "身份证号(可选)", "背景审查", "审查日期")
    assert staff[1][:3] == ("李老师", "教师", "13900139000")
    assert [
        row[0]
        for row in read_sheet(
            services.roster_export(actor=principal, school=world.school, kind=ImportKind.CLASSES)
        )
    ] == ["班级名称", "小一班"]


@pytest.mark.parametrize("username", ["guard", "police", "principal2", "county"])
def test_export_requires_the_role(world, username):
    with pytest.raises(PermissionDenied):
        services.roster_export(
            actor=world.users[username], school=world.school, kind=ImportKind.CHILDREN
        )
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.parametrize(
    "kind, headers",
    [
        (ImportKind.CHILDREN, ("班级", "姓名", "性别", "身份证号", "出生日期(可选)")),
        (
            ImportKind.GUARDIANS,
            (
                "幼儿身份证号",
                "监护人姓名",
                "关系",
                "电话",
                "可接送(是/否)",
                "主要联系人(是/否)",
                "监护人身份证号(可选)",
            ),
        ),
        (ImportKind.CLASSES, ("班级名称", "年级", "班主任(可选)")),
        (ImportKind.STAFF, ("姓名", "岗位", "电话", "身份证号(可选)", "背景审查", "审查日期")),
    ],
)
def test_template_has_chinese_headers_an_example_and_notes(world, kind, headers, run_job):
    data = services.import_template(kind)
    rows = read_sheet(data)
    assert rows[0] == headers
    filled = [row for row in rows if any(value is not None for value in row)]
    assert len(filled) == 2
    assert len(read_sheet(data, index=1)) >= 5
    # A template uploaded untouched has no rows to import: the example row is skipped.
    job = run_job(actor=world.users["principal"], school=world.school, kind=kind, data=data)
    assert job.status == ImportStatus.FAILED_VALIDATION
    assert job.error_count == 1 and "no rows" in job.errors[0]["message"]


def test_stale_running_jobs_are_failed(world, run_job):
    import datetime as dt

    from django.utils import timezone

    job = run_job(
        actor=world.users["principal"],
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(2)),
    )
    fresh = run_job(
        actor=world.users["principal"],
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(2, start=10)),
    )
    long_ago = timezone.now() - dt.timedelta(hours=2)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.COMMITTING, updated_at=long_ago)
    ImportJob.objects.filter(pk=fresh.pk).update(status=ImportStatus.VALIDATING)
    assert services.import_jobs_fail_stale() == 1
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.message and job.rows_encrypted == ""
    assert fresh.status == ImportStatus.VALIDATING


def test_role_removed_between_confirm_and_import(world, run_job):
    from huxiao.imports.tasks import import_job_commit_task
    from huxiao.orgs.models import Membership

    principal = world.users["principal"]
    job = run_job(
        actor=principal,
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(2)),
    )
    services.import_job_confirm(actor=principal, job=job)  # the queued import is not run yet
    Membership.objects.filter(user=principal).update(is_active=False)
    import_job_commit_task(job.pk, principal.pk)  # huey runs it at once in tests
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "no longer allows" in job.message
    assert Child.objects.filter(school=world.school).count() == 1
