"""The county's cluster-alert rules as data, and what they mean (issue 9 item 4; ADR 0032
"Surveillance").

A county (region) has a small set of `ClusterRule` rows. Until a keeper first edits them a
county runs on the shipped defaults (WS/T 772-2020 in spirit), which are not stored:
`rules_for_region` returns them unsaved, and the first edit stores them
(`surveillance_services.cluster_rules_ensure`).

Shipped defaults:
- class_cluster, similar symptoms: 3 children of one class within 3 days;
- school_cluster, similar symptoms: 5 children of one school within 7 days;
- notifiable: any suspected notifiable disease, at once.

"Similar symptoms" (`symptom_group == "any"` in a rule) means *symptoms of the same group*,
each group counted on its own: fever/cough, vomiting/diarrhoea, rash/blisters, red eyes. A
rule for one group (e.g. vomiting/diarrhoea ≥ 2 children of a class within 2 days) replaces
the similar-symptoms rule of its kind for that group. "Other symptoms" are not similar to
each other, so they are counted only by a rule of their own.

A window of N days ends today and includes N days: with 3 days, today and the two days
before count, the third day before does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, CharField, Value, When
from django.utils.translation import gettext_lazy as _

from huxiao.health.choices import SYMPTOM_GROUPS, RuleKind, SymptomGroup
from huxiao.health.models import ClusterRule

# The groups a similar-symptoms rule covers ("other" only by its own rule).
SIMILAR_GROUPS: tuple[str, ...] = (
    SymptomGroup.RESPIRATORY,
    SymptomGroup.DIGESTIVE,
    SymptomGroup.SKIN,
    SymptomGroup.EYE,
)
COUNTED_GROUPS: tuple[str, ...] = (*SIMILAR_GROUPS, SymptomGroup.OTHER)
CLUSTER_KINDS: tuple[str, ...] = (RuleKind.CLASS_CLUSTER, RuleKind.SCHOOL_CLUSTER)

# Bounds of the model's check constraints (health_rule_min_children, health_rule_window).
MIN_CHILDREN = (1, 500)
WINDOW_DAYS = (1, 60)

# (kind, symptom group, children, days)
DEFAULTS: tuple[tuple[str, str, int, int], ...] = (
    (RuleKind.CLASS_CLUSTER, SymptomGroup.ANY, 3, 3),
    (RuleKind.SCHOOL_CLUSTER, SymptomGroup.ANY, 5, 7),
    (RuleKind.NOTIFIABLE, SymptomGroup.ANY, 1, 1),
)

SIMILAR_LABEL = _("Similar symptoms (each group on its own)")


def group_label(group: str) -> str:
    """How a rule's symptom group reads on the rules page and in the API."""
    if group == SymptomGroup.ANY:
        return str(SIMILAR_LABEL)
    return str(SymptomGroup(group).label)


def symptoms_of(group: str) -> list[str]:
    return [code for code, g in SYMPTOM_GROUPS.items() if g == group]


def group_expression() -> Case:
    """The symptom group of a SymptomEvent's `symptom`, computed by the database."""
    whens = [
        When(symptom__in=symptoms_of(group), then=Value(group))
        for group in SIMILAR_GROUPS
        if symptoms_of(group)
    ]
    return Case(*whens, default=Value(SymptomGroup.OTHER), output_field=CharField())


def default_rules(region_id: int) -> list[ClusterRule]:
    """The shipped rules for a county, unsaved."""
    return [
        ClusterRule(
            region_id=region_id,
            kind=kind,
            symptom_group=group,
            min_children=children,
            window_days=days,
            is_active=True,
        )
        for kind, group, children, days in DEFAULTS
    ]


def sort_key(rule: ClusterRule) -> tuple:
    kinds = list(RuleKind.values)
    groups = [SymptomGroup.ANY, *COUNTED_GROUPS]
    return (
        kinds.index(rule.kind) if rule.kind in kinds else 99,
        groups.index(rule.symptom_group) if rule.symptom_group in groups else 99,
        rule.pk or 0,
    )


def rules_for_region(region_id: int) -> list[ClusterRule]:
    """The county's rules in display order: the stored ones, or the unsaved defaults when
    the county has none yet."""
    rows = list(ClusterRule.objects.filter(region_id=region_id))
    return sorted(rows or default_rules(region_id), key=sort_key)


@dataclass(frozen=True)
class Threshold:
    """A rule in force for one kind and one symptom group."""

    kind: str
    group: str
    min_children: int
    window_days: int
    rule: ClusterRule | None  # None: a shipped default not stored yet


@dataclass
class RuleSet:
    """A county's rules in force: `thresholds[(kind, group)]`, and the notifiable rule."""

    thresholds: dict[tuple[str, str], Threshold]
    notifiable: Threshold | None

    def for_group(self, kind: str, group: str) -> Threshold | None:
        return self.thresholds.get((kind, group))


def rule_set(rules: list[ClusterRule]) -> RuleSet:
    """What a county's rules (stored or default) put in force."""
    active = [r for r in rules if r.is_active]
    thresholds: dict[tuple[str, str], Threshold] = {}
    for kind in CLUSTER_KINDS:
        similar = next(
            (r for r in active if r.kind == kind and r.symptom_group == SymptomGroup.ANY), None
        )
        for group in COUNTED_GROUPS:
            own = next((r for r in active if r.kind == kind and r.symptom_group == group), None)
            rule = own or (similar if group in SIMILAR_GROUPS else None)
            if rule is not None:
                thresholds[(kind, group)] = Threshold(
                    kind=kind,
                    group=group,
                    min_children=int(rule.min_children),
                    window_days=int(rule.window_days),
                    rule=rule if rule.pk else None,
                )
    notifiable = next((r for r in active if r.kind == RuleKind.NOTIFIABLE), None)
    return RuleSet(
        thresholds=thresholds,
        notifiable=None
        if notifiable is None
        else Threshold(
            kind=RuleKind.NOTIFIABLE,
            group=SymptomGroup.ANY,
            min_children=1,
            window_days=1,
            rule=notifiable if notifiable.pk else None,
        ),
    )


def rule_sets(region_ids=None) -> dict[int, RuleSet]:
    """The rules in force of the given counties (every stored county when None), in one
    query; a county with no stored rule gets the defaults (`rule_sets_default`)."""
    rows = ClusterRule.objects.all()
    if region_ids is not None:
        rows = rows.filter(region_id__in=list(region_ids))
    by_region: dict[int, list[ClusterRule]] = {}
    for row in rows:
        by_region.setdefault(row.region_id, []).append(row)
    return {region_id: rule_set(rules) for region_id, rules in by_region.items()}


DEFAULT_SET = rule_set(default_rules(0))
