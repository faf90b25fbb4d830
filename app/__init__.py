"""The application layer: owns the turn (load, run the pure engine, save, apply effects) and hands
neutral outgoing items to the channel adapters. Adapters call only this package."""
from app.journeys import Journeys, Reminder
from store.records import JourneyNotFound, OwnerKey, ShareDenied, StoreUnavailable
from store.stats import SummaryStats

__all__ = ["Journeys", "Reminder", "OwnerKey", "StoreUnavailable", "JourneyNotFound", "ShareDenied", "SummaryStats", "database_location"]


def database_location() -> str:
    """Where journeys are stored, for messages: the database URL without its password."""
    from store.db import database_url, safe_url

    return safe_url(database_url())
