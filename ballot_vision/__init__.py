"""ballot-vision: read photographed paper ballots into a votes CSV with confidence."""

__version__ = "0.1.0"
