"""The people at each customer: who the program's emails greet and go to (contacts.csv,
the customer page's Contacts tab)."""

from lib.contacts.store import for_customer, primary

__all__ = ["for_customer", "primary"]
