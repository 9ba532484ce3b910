"""Database: SQLAlchemy 2 typed models, engine and sessions from a URL, Alembic migrations."""
