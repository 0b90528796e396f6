"""Test support: real infrastructure (embedded or standalone) and a real mesh in subprocesses."""
