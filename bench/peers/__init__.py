"""The peers ordermill is measured against: the raw floor, django-oscar (own venv), and
ordermill itself on the same workload, each run in its own process."""
