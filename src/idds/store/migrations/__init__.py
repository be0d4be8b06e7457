"""The Alembic migrations of the clinic's record, run in code by `idds.store.migrate` (no
alembic.ini): `env.py` and the revisions in `versions/`."""
