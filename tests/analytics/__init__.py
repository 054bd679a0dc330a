"""Tests of the analytics stores: one contract, every engine."""
