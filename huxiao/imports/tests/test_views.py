"""Pages: role × scope for every endpoint, the upload → preview → confirm journey, downloads."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.imports.choices import ImportKind, ImportStatus
from huxiao.imports.models import ImportJob
from huxiao.imports.tests.sheets import CHILD_HEADER, child_rows, read_sheet, upload, xlsx
from huxiao.people.models import Child


@pytest.fixture
def ready_job(world, run_job):
    return run_job(
        actor=world.users["principal"],
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(3)),
    )


def login(client, world, username):
    if username != "anonymous":
        client.force_login(world.users[username])
    return client


# ---------------------------------------------------------------- role × scope


@pytest.mark.parametrize(
    "username, status",
    [
        ("anonymous", 302),
        ("guard", 403),
        ("police", 403),
        ("county", 403),
        ("nobody", 403),
        ("principal2", 200),
        ("principal", 200),
        ("teacher", 200),  # exports only
        ("edu", 200),  # exports only, for the town's schools
    ],
)
def test_list_page(client, world, username, status):
    response = login(client, world, username).get(reverse("imports:job_list"))
    assert response.status_code == status


def test_list_shows_only_jobs_in_scope(client, world, ready_job):
    response = login(client, world, "principal").get(reverse("imports:job_list"))
    assert reverse("imports:job_detail", args=[ready_job.pk]) in response.content.decode()
    response = login(client, world, "principal2").get(reverse("imports:job_list"))
    assert reverse("imports:job_detail", args=[ready_job.pk]) not in response.content.decode()
    # A teacher may export but not import: no upload form, no jobs.
    client.logout()
    page = login(client, world, "teacher").get(reverse("imports:job_list")).content.decode()
    assert 'name="file"' not in page
    assert reverse("imports:export", args=[world.school.pk, "children"]) in page


@pytest.mark.parametrize(
    "username, status",
    [
        ("anonymous", 302),
        ("guard", 403),
        ("police", 403),
        ("county", 403),
        ("teacher", 403),
        ("principal2", 404),
        ("farpolice", 404),
        ("principal", 200),
    ],
)
def test_job_detail_scope(client, world, ready_job, username, status):
    response = login(client, world, username).get(
        reverse("imports:job_detail", args=[ready_job.pk])
    )
    assert response.status_code == status


@pytest.mark.parametrize(
    "username, status",
    [
        ("anonymous", 302),
        ("guard", 403),
        ("police", 403),
        ("principal2", 404),
        ("county", 403),
    ],
)
def test_confirm_denied_changes_nothing(client, world, ready_job, username, status):
    response = login(client, world, username).post(
        reverse("imports:job_confirm", args=[ready_job.pk])
    )
    assert response.status_code == status
    ready_job.refresh_from_db()
    assert ready_job.status == ImportStatus.READY
    assert Child.objects.filter(school=world.school).count() == 1


@pytest.mark.parametrize(
    "username, status",
    [("anonymous", 302), ("guard", 403), ("police", 403), ("teacher", 403), ("edu", 403)],
)
def test_upload_denied(client, world, username, status):
    response = login(client, world, username).post(
        reverse("imports:job_create"),
        {
            "school": world.school.pk,
            "kind": "children",
            "file": upload(xlsx(CHILD_HEADER, child_rows(1))),
        },
    )
    assert response.status_code == status
    assert not ImportJob.objects.exists()


def test_upload_to_another_school_is_not_a_choice(client, world):
    response = login(client, world, "principal").post(
        reverse("imports:job_create"),
        {
            "school": world.other_school.pk,
            "kind": "children",
            "file": upload(xlsx(CHILD_HEADER, child_rows(1))),
        },
    )
    assert response.status_code == 400
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    "username, status",
    [
        ("anonymous", 302),
        ("guard", 403),
        ("police", 403),
        ("principal2", 404),
        ("farpolice", 404),
        ("principal", 200),
        ("teacher", 200),
        ("edu", 200),
    ],
)
def test_export_scope(client, world, username, status):
    response = login(client, world, username).get(
        reverse("imports:export", args=[world.school.pk, "children"])
    )
    assert response.status_code == status
    exported = AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    assert exported == (status == 200)


@pytest.mark.parametrize(
    "username, status",
    [("anonymous", 302), ("guard", 403), ("police", 403), ("principal", 200)],
)
def test_template_download_scope(client, world, username, status):
    response = login(client, world, username).get(reverse("imports:template", args=["children"]))
    assert response.status_code == status


def test_unknown_kind_is_404(client, world):
    login(client, world, "principal")
    assert client.get(reverse("imports:template", args=["pets"])).status_code == 404
    assert client.get(reverse("imports:export", args=[world.school.pk, "pets"])).status_code == 404


# ---------------------------------------------------------------- the journey


def test_upload_preview_confirm_journey(client, world, django_capture_on_commit_callbacks):
    login(client, world, "principal")
    page = client.get(reverse("imports:job_list")).content.decode()
    assert 'name="file"' in page and 'enctype="multipart/form-data"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports:job_create"),
            {
                "school": world.school.pk,
                "kind": "children",
                "file": upload(xlsx(CHILD_HEADER, child_rows(4)), "幼儿名册.xlsx"),
            },
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:job_detail", args=[job.pk])
    assert job.original_filename == "幼儿名册.xlsx"

    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-status" data-status="ready"' in page
    assert 'data-testid="import-confirm"' in page
    assert 'data-testid="import-preview"' in page
    assert "hx-trigger" not in page  # not polling once checked

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:job_confirm", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.created_count == 4
    assert Child.objects.filter(school=world.school).count() == 5
    # Audit rows carry the request that confirmed the import.
    summary = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert summary.request_id

    page = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in page
    assert reverse("people:class_list") in page
    assert 'data-testid="import-confirm"' not in page

    # A second confirm (double click, back button) imports nothing more.
    response = client.post(reverse("imports:job_confirm", args=[job.pk]))
    assert response.status_code == 409
    assert Child.objects.filter(school=world.school).count() == 5


def test_running_job_polls_and_partial_has_no_layout(client, world, ready_job):
    ImportJob.objects.filter(pk=ready_job.pk).update(
        status=ImportStatus.VALIDATING, processed_rows=500, total_rows=2000
    )
    login(client, world, "principal")
    url = reverse("imports:job_detail", args=[ready_job.pk])
    page = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert 'value="500" max="2000"' in page
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial
    assert 'id="job-body"' in partial and 'hx-trigger="every 1s"' in partial


def test_row_errors_are_shown_without_confirm(client, world, run_job):
    rows = child_rows(2) + [["不存在班", "乙", "女", "123", None]]
    job = run_job(
        actor=world.users["principal"],
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, rows),
    )
    page = (
        login(client, world, "principal")
        .get(reverse("imports:job_detail", args=[job.pk]))
        .content.decode()
    )
    assert 'data-status="failed_validation"' in page
    assert 'data-testid="import-errors"' in page
    assert "hx-rowerror" in page
    assert 'data-testid="import-confirm"' not in page
    assert "<td>4</td>" in page  # the spreadsheet row number


def test_garbage_upload_gets_a_message_not_a_500(client, world):
    response = login(client, world, "principal").post(
        reverse("imports:job_create"),
        {"school": world.school.pk, "kind": "children", "file": upload(b"\x00\xffnot excel" * 99)},
    )
    assert response.status_code == 400
    assert "xlsx" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_upload_without_file_is_a_form_error(client, world):
    response = login(client, world, "principal").post(
        reverse("imports:job_create"), {"school": world.school.pk, "kind": "children"}
    )
    assert response.status_code == 400
    assert not ImportJob.objects.exists()


def test_upload_requires_csrf(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["principal"])
    response = client.post(
        reverse("imports:job_create"),
        {"school": world.school.pk, "kind": "children", "file": upload(xlsx(CHILD_HEADER, []))},
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_downloads_are_xlsx(client, world):
    login(client, world, "principal")
    response = client.get(reverse("imports:template", args=["guardians"]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="huxiao-guardians-template.xlsx"' in response["Content-Disposition"]
    assert read_sheet(response.content)[0][0] == "幼儿身份证号"
    response = client.get(reverse("imports:export", args=[world.school.pk, "children"]))
    rows = read_sheet(response.content)
    assert rows[1][3] == world.child.id_number_masked
    assert response["Cache-Control"] == "no-store"
