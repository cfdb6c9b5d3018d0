"""The compliance rule kinds and each county's rule set (issue 7 item 4; ADR 0028).

CONTRACT (other areas call these; the compliance area implements them):
- `RULES`: rule key → rule kind (label, parameters with defaults and bounds, evaluation).
- `rule_params(region_id, key) -> dict`: the parameters of a rule in force for a county (the
  defaults overlaid with the county's values); `{}` when the rule is switched off.
  The patrol-rounds rule (key "patrol_rounds") has at least
  {"rounds_per_day": 5, "night_rounds": 1} (night rounds only for boarding schools).
"""

from __future__ import annotations

PATROL_ROUNDS_DEFAULTS = {"rounds_per_day": 5, "night_rounds": 1}


def rule_params(region_id, key) -> dict:  # stub until the compliance area lands
    if key == "patrol_rounds":
        return dict(PATROL_ROUNDS_DEFAULTS)
    return {}
