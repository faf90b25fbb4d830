"""The application layer: owns the turn (load, run the pure engine, save, apply effects) and hands
neutral outgoing items to the channel adapters. Adapters call only this package."""
from app.journeys import Journeys, Reminder
from store.records import JourneyNotFound, OwnerKey, ShareDenied, StoreUnavailable

__all__ = ["Journeys", "Reminder", "OwnerKey", "StoreUnavailable", "JourneyNotFound", "ShareDenied"]
