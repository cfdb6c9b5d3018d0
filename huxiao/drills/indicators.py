"""Assessment indicator source fed by the drills app (replaces the supervision placeholder
"drills_held"; ADR 0027 "Indicators", ADR 0030). Contract stub: the real computation is
written by the compliance area (drills/compliance.py)."""
