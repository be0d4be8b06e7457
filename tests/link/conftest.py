"""Fixtures for link tests (helpers live in link_helpers.py)."""

from __future__ import annotations

import pytest

from tests.link.link_helpers import Rig, make_rig


@pytest.fixture
def rig() -> Rig:
    """A pump endpoint with memory stores, open rate limits and a recording handler."""
    return make_rig()
