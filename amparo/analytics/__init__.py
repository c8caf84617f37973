"""Analytics over coded facets: aggregates, trends, escalation patterns, publishable tables.

- :mod:`amparo.analytics.aggregates`: counts of acts by any dimensions (``aggregate``),
  counts per period with the change (``trend``), escalation patterns (``escalations``).
- :mod:`amparo.analytics.disclosure`: small-count and complementary suppression and optional
  Laplace noise for tables that leave the organisation (``protect``).
"""
