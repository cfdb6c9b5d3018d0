"""Assessment indicator sources fed by the duty app (replaces the supervision placeholder
"duty_gaps"; ADR 0027 "Indicators", ADR 0029)."""
