"""Load the checklist templates shipped with the platform (ADR 0026, "Templates").

A data migration, written by hand: it calls the loader with the historical models, so it
keeps working when the models change later. Reversing it leaves the rows in place (they may
already be referenced by inspections)."""

from django.db import migrations


def load(apps, schema_editor):
    from huxiao.hazards.shipped_templates import load_shipped_templates

    load_shipped_templates(
        template_model=apps.get_model("hazards", "ChecklistTemplate"),
        section_model=apps.get_model("hazards", "TemplateSection"),
        item_model=apps.get_model("hazards", "TemplateItem"),
    )


class Migration(migrations.Migration):
    dependencies = [("hazards", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
