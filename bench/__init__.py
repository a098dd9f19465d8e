"""`make bench`: the console at 1,000 and 10,000 customers against the database's own floor."""
