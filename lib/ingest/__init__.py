"""Data in: the CSV import and the PostHog sync. Pure: `spec`, `sources`, `limits`, `parse`,
`cells`, `schema`, `validate`, `usage_read`, `posthog_client`, `posthog_sync`, `http_retry`.
Database: `store` (write, after_data_change), `usage_store`, `posthog_store`."""

from __future__ import annotations

from lib.ingest.sources import FrameSource, Source, kind_from_name, sources_from_paths
from lib.ingest.spec import (
    KINDS,
    SPECS,
    FileSpec,
    ImportRejected,
    ImportResult,
    KindResult,
    Problem,
)
from lib.ingest.store import after_data_change, ensure_schema, write
from lib.ingest.validate import Loaded, load, load_frames, validate_paths, validate_sources

__all__ = [
    "KINDS",
    "SPECS",
    "FileSpec",
    "FrameSource",
    "ImportRejected",
    "ImportResult",
    "KindResult",
    "Loaded",
    "Problem",
    "Source",
    "after_data_change",
    "ensure_schema",
    "kind_from_name",
    "load",
    "load_frames",
    "sources_from_paths",
    "validate_paths",
    "validate_sources",
    "write",
]
