"""What every channel adapter shares: per-owner ordering, the reminder loop, file intake, stop signals."""
from handlers.kit.intake import FileRejected, FileTooLarge, accept_csv, read_limited
from handlers.kit.ordering import OwnerQueue
from handlers.kit.reminders import ReminderLoop

__all__ = ["OwnerQueue", "ReminderLoop", "FileRejected", "FileTooLarge", "accept_csv", "read_limited"]
