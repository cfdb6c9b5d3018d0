"""Roster imports and exports: `<entity>_<verb>(*, actor, ...)`, atomic and audited.

An import goes upload → check (task) → preview → confirm → import (task). The import
re-checks every row inside the one transaction that writes them, so what is written is
exactly what was checked against the database as it is at that moment; any failure rolls
the whole file back.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_bulk_create, audit_create, audit_record
from huxiao.core import request_context
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.imports.choices import RUNNING_STATUSES, ImportKind, ImportStatus
from huxiao.imports.columns import (
    EXPORT_EXTRA_COLUMNS,
    SHEET_TITLES,
    columns_for,
    file_word,
)
from huxiao.imports.models import ImportJob
from huxiao.imports.validation import (
    Outcome,
    SheetRows,
    check_rows,
    max_rows,
    validate_workbook,
)
from huxiao.imports.workbook import WorkbookError, check_signature, export_bytes, template_bytes
from huxiao.people.models import Child, Guardian, SchoolClass, Staff

logger = logging.getLogger(__name__)

BULK_BATCH = 500
STALE_AFTER = dt.timedelta(minutes=30)
SCOPE_CHECK_CHUNK = 2000

MODELS = {
    ImportKind.CLASSES: SchoolClass,
    ImportKind.CHILDREN: Child,
    ImportKind.GUARDIANS: Guardian,
    ImportKind.STAFF: Staff,
}


def _check_kind(kind: str) -> None:
    if kind not in ImportKind.values:
        raise ValidationError({"kind": [_("Choose one of the rosters offered.")]})


# ---------------------------------------------------------------- upload


@transaction.atomic
def import_job_create(*, actor, school, kind: str, uploaded_file) -> ImportJob:
    """Store the upload (encrypted) and queue its check. Refuses what is plainly not .xlsx."""
    require(actor, Action.IMPORT_ROSTER, school.pk)
    _check_kind(kind)
    if uploaded_file is None:
        raise ValidationError({"file": [_("Choose a file to upload.")]})
    limit = settings.IMPORT_MAX_BYTES
    if uploaded_file.size > limit:
        raise ValidationError(
            {
                "file": [
                    _("The file is larger than %(size)s MB; split it into smaller files.")
                    % {"size": limit // (1024 * 1024)}
                ]
            }
        )
    data = uploaded_file.read()
    try:
        check_signature(data[:8])
    except WorkbookError as exc:
        raise ValidationError({"file": [exc.message]}) from exc
    job = ImportJob(
        school=school,
        kind=kind,
        created_by=acting_user(actor),
        original_filename=os.path.basename(str(uploaded_file.name or ""))[:255] or "upload.xlsx",
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    job.set_file(data)
    job.save()
    audit_create(actor=actor, obj=job)
    from huxiao.imports.tasks import import_job_validate_task  # tasks import this module

    transaction.on_commit(lambda: import_job_validate_task(job.pk))
    return job


# ---------------------------------------------------------------- check


def import_job_validate(*, job: ImportJob) -> ImportJob:
    """Check every row and store errors and preview (run by the task queue).

    Deliberately not one transaction: the only row written is the job's own, and progress
    updates must be visible to the page while the check runs.
    """
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.UPLOADED).update(
        status=ImportStatus.VALIDATING, processed_rows=0, updated_at=timezone.now()
    )
    if not claimed:  # a retried task, or the job was checked already
        job.refresh_from_db()
        return job

    def progress(done: int, estimated: int) -> None:
        # Also a heartbeat: a check that stops updating is failed by import_jobs_fail_stale.
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=done, total_rows=estimated, updated_at=timezone.now()
        )

    sheet_rows = None
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            outcome, sheet_rows = validate_workbook(
                kind=job.kind, school=job.school, data=job.read_file(), on_progress=progress
            )
        except Exception:  # noqa: BLE001 - the job must never stay "checking" forever
            logger.exception("import job %s: check failed", job.pk)
            outcome = Outcome.file_error(
                _(
                    "The file could not be checked. Upload it again; if this happens again, "
                    "tell your administrator."
                )
            )
    ok = outcome.error_count == 0
    fields = {
        "status": ImportStatus.READY if ok else ImportStatus.FAILED_VALIDATION,
        "total_rows": outcome.total_rows,
        "processed_rows": outcome.total_rows,
        "error_count": outcome.error_count,
        "errors": outcome.errors,
        "preview": outcome.preview,
        # The spreadsheet is no longer needed: the import re-checks the rows read here.
        "file_encrypted": "",
    }
    if ok:
        job.set_rows(sheet_rows.to_json())
        fields["rows_encrypted"] = job.rows_encrypted
    else:
        # The user fixes the spreadsheet and uploads it again.
        fields["finished_at"] = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(**fields, updated_at=timezone.now())
    job.refresh_from_db()
    return job


# ---------------------------------------------------------------- import


def _not_ready() -> ValidationError:
    return ValidationError(
        _("This import cannot be confirmed now: it has errors, is already running or is finished.")
    )


@transaction.atomic
def import_job_confirm(*, actor, job: ImportJob) -> ImportJob:
    """The user's confirmation: mark the job as importing and queue the import."""
    require(actor, Action.IMPORT_ROSTER, job.school_id)
    # A conditional update, so a double click queues the import once.
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.READY, error_count=0).update(
        status=ImportStatus.COMMITTING, updated_at=timezone.now()
    )
    if not claimed:
        raise _not_ready()
    context = request_context.current()
    from huxiao.imports.tasks import import_job_commit_task  # tasks import this module

    transaction.on_commit(
        lambda: import_job_commit_task(job.pk, actor.pk, context.request_id, context.ip)
    )
    job.refresh_from_db()
    return job


def _build_class(job, values) -> SchoolClass:
    return SchoolClass(
        school_id=job.school_id,
        name=values["name"],
        grade=values["grade"],
        head_teacher_id=values["head_teacher_id"],
    )


def _build_child(job, values) -> Child:
    child = Child(
        school_id=job.school_id,
        school_class_id=values["school_class_id"],
        name=values["name"],
        gender=values["gender"],
        birth_date=values["birth_date"],
    )
    child.set_id_number(values["id_number"])
    return child


def _build_guardian(job, values) -> Guardian:
    guardian = Guardian(
        child_id=values["child_id"],
        name=values["name"],
        relationship=values["relationship"],
        phone=values["phone"],
        can_pick_up=values["can_pick_up"],
        is_primary=values["is_primary"],
    )
    guardian.set_id_number(values["id_number"] or "")
    return guardian


def _build_staff(job, values) -> Staff:
    staff = Staff(
        school_id=job.school_id,
        name=values["name"],
        role=values["role"],
        phone=values["phone"] or "",
        background_check=values["background_check"],
        background_checked_on=values["background_checked_on"],
    )
    staff.set_id_number(values["id_number"] or "")
    return staff


_BUILDERS = {
    ImportKind.CLASSES: _build_class,
    ImportKind.CHILDREN: _build_child,
    ImportKind.GUARDIANS: _build_guardian,
    ImportKind.STAFF: _build_staff,
}


class _RowsChanged(Exception):
    """The re-check inside the transaction found errors the first check did not."""

    def __init__(self, outcome: Outcome):
        super().__init__("rows changed")
        self.outcome = outcome


class _AlreadyHandled(Exception):
    """Another run finished or failed this job while this one waited for the lock."""


def _recheck_scope(*, actor, model, objs, school_id: int) -> None:
    """Every new row must be one the actor may import, at the job's school (NetBox re-checks
    after a bulk import and rolls everything back otherwise)."""
    pks = [obj.pk for obj in objs]
    if any(pk is None for pk in pks):
        raise RuntimeError("bulk_create did not return primary keys")
    school_field = getattr(model, "scope_school_field", "school")
    visible = model.objects.visible_to(actor, Action.IMPORT_ROSTER).filter(
        **{f"{school_field}_id": school_id}
    )
    for start in range(0, len(pks), SCOPE_CHECK_CHUNK):
        chunk = pks[start : start + SCOPE_CHECK_CHUNK]
        if visible.filter(pk__in=chunk).count() != len(chunk):
            raise PermissionDenied(_("Some imported records fall outside your scope."))


def import_job_commit(*, actor, job: ImportJob) -> ImportJob:
    """Write every row of a checked file in one transaction, or nothing.

    Raises PermissionDenied / ValidationError only before anything happens (wrong role, job
    not ready). Any failure after that rolls back every row and is recorded on the job
    (status failed, with a message), so the task queue never leaves a job half done.
    """
    require(actor, Action.IMPORT_ROSTER, job.school_id)
    if job.status not in (ImportStatus.READY, ImportStatus.COMMITTING) or job.error_count:
        raise _not_ready()
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.READY).update(
        status=ImportStatus.COMMITTING, updated_at=timezone.now()
    )
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            with transaction.atomic():
                return _commit_locked(actor=actor, job_id=job.pk)
        except _AlreadyHandled:
            job.refresh_from_db()
            return job
        except _RowsChanged as exc:
            return _record_failure(
                actor=actor,
                job=job,
                status=ImportStatus.FAILED_VALIDATION,
                message=_(
                    "The roster changed after the check, and some rows are no longer valid. "
                    "Nothing was imported; correct the rows below and upload the file again."
                ),
                outcome=exc.outcome,
            )
        except PermissionDenied:
            return _record_failure(
                actor=actor,
                job=job,
                status=ImportStatus.FAILED,
                message=_("Your role no longer allows this import. Nothing was imported."),
            )
        except Exception:  # noqa: BLE001 - rolled back; the user gets a message, not a trace
            logger.exception("import job %s: import failed and was rolled back", job.pk)
            return _record_failure(
                actor=actor,
                job=job,
                status=ImportStatus.FAILED,
                message=_(
                    "The import failed and nothing was written. Upload the file again; if "
                    "this happens again, tell your administrator."
                ),
            )


def _commit_locked(*, actor, job_id: int) -> ImportJob:
    # The row lock (and SQLite's write lock) makes a second run wait, then see "done".
    job = ImportJob.objects.select_for_update(of=("self",)).select_related("school").get(pk=job_id)
    if job.status != ImportStatus.COMMITTING:
        raise _AlreadyHandled
    outcome = check_rows(
        kind=job.kind,
        school=job.school,
        sheet_rows=SheetRows.from_json(job.read_rows()),
        keep_rows=True,
    )
    if outcome.error_count:
        raise _RowsChanged(outcome)
    build = _BUILDERS[job.kind]
    model = MODELS[job.kind]
    objs = [build(job, row.values) for row in outcome.rows]
    model.objects.bulk_create(objs, batch_size=BULK_BATCH)
    _recheck_scope(actor=actor, model=model, objs=objs, school_id=job.school_id)
    audit_bulk_create(actor=actor, objs=objs, school=job.school_id)
    if job.kind == ImportKind.STAFF and objs:
        # Imported guards count for the school's security compliance: evaluate it once,
        # after the commit (imported here: the security app imports the people app).
        from huxiao.security.compliance import reevaluate_on_commit

        reevaluate_on_commit([job.school_id])
    job.status = ImportStatus.DONE
    job.created_count = len(objs)
    job.total_rows = job.processed_rows = outcome.total_rows
    job.finished_at = timezone.now()
    job.rows_encrypted = ""  # imported: the roster now lives (encrypted) in its own tables
    job.message = ""
    job.save(
        update_fields=[
            "status",
            "created_count",
            "total_rows",
            "processed_rows",
            "finished_at",
            "rows_encrypted",
            "message",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        obj=job,
        changes={
            "kind": job.kind,
            "file": job.original_filename,
            "rows": outcome.total_rows,
            "created": len(objs),
        },
    )
    return job


@transaction.atomic
def _record_failure(*, actor, job, status, message, outcome: Outcome | None = None) -> ImportJob:
    fields = {
        "status": status,
        "message": str(message),
        "finished_at": timezone.now(),
        "updated_at": timezone.now(),
        "file_encrypted": "",
        "rows_encrypted": "",
    }
    if outcome is not None:
        fields.update(
            error_count=outcome.error_count, errors=outcome.errors, preview=outcome.preview
        )
    # Conditional: never turn a job another run finished into a failure.
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.COMMITTING).update(**fields)
    job.refresh_from_db()
    if updated:
        # The attempt stays in the trail even though every row was rolled back.
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            obj=job,
            changes={
                "kind": job.kind,
                "file": job.original_filename,
                "created": 0,
                "failed": str(message),
            },
        )
    return job


def import_job_fail(*, actor, job: ImportJob, message) -> ImportJob:
    """Give up on a queued import that can no longer run (e.g. the user lost the role)."""
    with translation.override(job.language or settings.LANGUAGE_CODE):
        return _record_failure(actor=actor, job=job, status=ImportStatus.FAILED, message=message)


def import_jobs_fail_stale(*, older_than: dt.timedelta = STALE_AFTER) -> int:
    """Fail jobs whose worker died mid-way, so no page polls forever (periodic task).

    A running job writes `updated_at` at each step and, while checking, every few hundred
    rows; an import's transaction lasts seconds. A job silent for longer than `older_than`
    has lost its worker: an import's transaction was rolled back with it, so "nothing was
    written" is true.
    """
    cutoff = timezone.now() - older_than
    stale = ImportJob.objects.filter(status__in=RUNNING_STATUSES, updated_at__lt=cutoff)
    count = 0
    for job in stale:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            message = str(
                _(
                    "The task queue stopped while handling this file. Nothing was imported; "
                    "upload it again."
                )
            )
        count += ImportJob.objects.filter(
            pk=job.pk, status=job.status, updated_at__lt=cutoff
        ).update(
            status=ImportStatus.FAILED,
            message=message,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            file_encrypted="",
            rows_encrypted="",
        )
    return count


# ---------------------------------------------------------------- export and template


def _export_rows(actor, school, kind: str) -> Iterator[tuple]:
    """Rows in column order; ID numbers only in their masked form — full numbers never
    leave the system in a spreadsheet."""
    action = Action.EXPORT_ROSTER
    if kind == ImportKind.CLASSES:
        return (
            SchoolClass.objects.visible_to(actor, action)
            .filter(school=school)
            .order_by("grade", "name")
            .values_list("name", "grade", "head_teacher__name")
            .iterator()
        )
    if kind == ImportKind.CHILDREN:
        return (
            Child.objects.visible_to(actor, action)
            .filter(school=school, is_active=True)
            .order_by("school_class__name", "name", "id")
            .values_list("school_class__name", "name", "gender", "id_number_masked", "birth_date")
            .iterator()
        )
    if kind == ImportKind.GUARDIANS:
        return (
            Guardian.objects.visible_to(actor, action)
            .filter(child__school=school, child__is_active=True)
            .order_by("child__school_class__name", "child__name", "child_id", "-is_primary")
            .values_list(
                "child__id_number_masked",
                "name",
                "relationship",
                "phone",
                "can_pick_up",
                "is_primary",
                "id_number_masked",
                "child__name",
                "child__school_class__name",
            )
            .iterator()
        )
    return (
        Staff.objects.visible_to(actor, action)
        .filter(school=school, is_active=True)
        .order_by("role", "name")
        .values_list(
            "name", "role", "phone", "id_number_masked", "background_check", "background_checked_on"
        )
        .iterator()
    )


def roster_export(*, actor, school, kind: str) -> bytes:
    """The school's roster as .xlsx with the template's Chinese headers; audited."""
    require(actor, Action.EXPORT_ROSTER, school.pk)
    _check_kind(kind)
    columns = columns_for(kind) + EXPORT_EXTRA_COLUMNS.get(kind, ())
    count = 0

    def rows():
        nonlocal count
        for values in _export_rows(actor, school, kind):
            count += 1
            yield [
                file_word(column.value_type, value)
                for column, value in zip(columns, values, strict=True)
            ]

    data = export_bytes(title=SHEET_TITLES[kind], columns=columns, rows=rows())
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.EXPORT,
            object_type=MODELS[kind]._meta.label_lower,
            object_repr=str(MODELS[kind]._meta.verbose_name_plural),
            school=school,
            changes={"kind": kind, "rows": count},
        )
    return data


def _template_notes(kind: str) -> list[str]:
    notes = [
        _("Fill in one row per record under the header row; keep the header names."),
        _("Row 2 is an example. It is skipped on import; you may delete it."),
        _("Columns marked (可选) are optional: leave the cells empty or delete the column."),
        _(
            "Type resident ID numbers as text (the column is already formatted as text): Excel "
            "drops the last digits of long numbers."
        ),
        _("At most %(rows)s rows and %(size)s MB per file.")
        % {"rows": max_rows(), "size": settings.IMPORT_MAX_BYTES // (1024 * 1024)},
    ]
    notes.append(
        {
            ImportKind.CLASSES: _(
                "Import staff first if you fill in head teachers: the head teacher must be "
                "the name of a staff member of the school."
            ),
            ImportKind.CHILDREN: _(
                "Import classes first: the class must already exist at the school. The birth "
                "date may be left empty; it is read from the ID number."
            ),
            ImportKind.GUARDIANS: _(
                "Import children first: each guardian is matched to a child by the child's "
                "resident ID number. Yes/no columns accept 是/否."
            ),
            ImportKind.STAFF: _(
                "Post: e.g. 校长, 教师, 保育员, 门卫, 保安, 校医, 厨师, 驾驶员. Background "
                "check: 未审查, 审查中, 通过, 未通过. Dates as YYYY-MM-DD."
            ),
        }[kind]
    )
    return [str(note) for note in notes]


def import_template(kind: str) -> bytes:
    """An empty roster with the Chinese headers, an example row and a sheet of notes."""
    _check_kind(kind)
    return template_bytes(
        title=SHEET_TITLES[kind], columns=columns_for(kind), notes=_template_notes(kind)
    )
