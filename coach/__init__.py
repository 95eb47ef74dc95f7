"""curry-coach: coaching for curry-rice sheets (カレーライスシート).

The version has one home, pyproject.toml; everything reads it from the installed metadata.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("curry-coach")
except PackageNotFoundError:  # a source tree that was never installed (`pip install -e .` fixes it)
    __version__ = "0+unknown"
