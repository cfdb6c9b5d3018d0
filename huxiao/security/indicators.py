"""Assessment indicator sources fed by the security app (replaces the supervision
placeholder "staffing_compliance"; ADR 0027 "Indicators", ADR 0028)."""
