"""curry-coach: coaching for curry-rice sheets (カレーライスシート)."""

__version__ = "0.1.0"
