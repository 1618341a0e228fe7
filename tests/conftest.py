"""Shared test configuration: the ``pytester`` fixture tests the pytest plugin in isolated sessions."""

pytest_plugins = ["pytester"]
