"""One exception root, with a subclass per kind of mistake, so callers can catch exactly what they expect."""

from __future__ import annotations


class TheoryError(Exception):
    """Root of every error theorycheck raises on purpose."""


class ClaimError(TheoryError):
    """A claim or bound form is malformed or refers to something that does not exist."""


class PluginError(TheoryError):
    """A plugin could not be loaded or declares something invalid."""

    def __init__(self, plugin: str, cause: str):
        super().__init__(f'Error loading plugin "{plugin}": {cause}')
        self.plugin = plugin
        self.cause = cause


class DeviceError(TheoryError):
    """A device or dtype was asked for that this machine does not have."""
