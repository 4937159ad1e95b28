"""Prepare OpenForensics-layout datasets: find/validate them, extract face crops, make SBI pseudo-fakes."""
