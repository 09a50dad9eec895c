"""Tests of the demo district simulator."""
