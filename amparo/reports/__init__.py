"""Documents from the vault: server-side charts, period reports, case dossiers and UN
Special Rapporteur communications, rendered as HTML, PDF or text (docs/reports.md)."""
