from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrillsConfig(AppConfig):
    name = "huxiao.drills"
    label = "drills"
    verbose_name = _("Safety education and drills")

    def ready(self) -> None:
        # Register the real "drills_held" indicator source over the supervision placeholder.
        from huxiao.drills import indicators  # noqa: F401

        _connect_standings()


def _connect_standings() -> None:
    """What the activity rules read bumps the school's stored standing in the same transaction
    (`drills.standings.touch`)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from huxiao.drills.models import Activity
    from huxiao.drills.standings import touch
    from huxiao.patrols.models import LegalVicePrincipal
    from huxiao.people.models import SchoolClass

    def changed(sender, instance, **kwargs):
        touch([getattr(instance, "school_id", None)])

    def classes_changed(sender, instance, action, **kwargs):
        if action.startswith("post_"):
            if isinstance(instance, Activity):
                touch([instance.school_id])
            else:  # a class's activities changed (reverse side)
                ids = kwargs.get("pk_set") or ()
                touch(
                    Activity.objects.filter(pk__in=ids).values_list("school_id", flat=True)
                    if ids
                    else [instance.school_id]
                )

    for model in (Activity, SchoolClass, LegalVicePrincipal):
        uid = f"drills-standings-{model._meta.label_lower}"
        post_save.connect(changed, sender=model, dispatch_uid=f"{uid}-save", weak=False)
        post_delete.connect(changed, sender=model, dispatch_uid=f"{uid}-delete", weak=False)
    m2m_changed.connect(
        classes_changed,
        sender=Activity.classes.through,
        dispatch_uid="drills-standings-activity-classes",
        weak=False,
    )
