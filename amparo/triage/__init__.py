"""Online-abuse triage: normalisation, language, rules (doxxing, smears, threats), classifiers,
urgency and campaign detection. Pure library code: the CLI and web pages are adapters."""
