"""Presentation of reports: terminal tables (rich) and text formats."""
