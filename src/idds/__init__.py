"""IDDS: an open reference system for intrathecal drug delivery.

Research and training software, not a medical device. See README.md and docs/design.md.
"""

__version__ = "0.1.0"

DISCLAIMER = "Research and training software, not a medical device: not for patient care."
