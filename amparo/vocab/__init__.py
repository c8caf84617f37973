"""Amparo's controlled vocabularies as CSV data files (read by ``amparo.domain.vocabularies``)."""
