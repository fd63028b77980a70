"""Calibration harness: simulations with known truths that measure mlstrat's verdicts."""
