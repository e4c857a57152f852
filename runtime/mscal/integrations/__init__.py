"""The connector inside job runners: a Celery task (`celery.py`) and a Temporal activity
(`temporal.py`), both over `runner.py` (stored authentications, retry decisions)."""
