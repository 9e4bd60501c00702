"""Alembic migrations, shipped as `consentreg_migrations`: every database is built by them."""
